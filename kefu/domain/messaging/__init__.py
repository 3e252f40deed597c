"""Pure rules of lifecycle and service messages: templates and voices, sending policy, opt-out words, retries."""
