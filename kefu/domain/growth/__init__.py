"""Growth rules, pure: RFM segments, purchase cycles, fitting gifts, coupon budgets."""
