"""Pure rules that turn facts, a shop's configuration and the time into things a person should act on."""
