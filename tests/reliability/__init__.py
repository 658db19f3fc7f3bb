"""The reliability suite: kill it anywhere, feed it garbage, and nothing is lost (crash, input, secret and host-safety tests)."""
