"""Pure stock rules: allocating stock to orders, the buyer's stockout choice, messages, safety stock, sell-through."""
