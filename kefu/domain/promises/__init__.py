"""Helpers of the promise guard (kefu.domain.promise_guard): reading Chinese reply wording."""
