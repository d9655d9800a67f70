"""The embedded demo's fixed, public keys (no Django imports: settings read them).

Never used in production: settings refuse to start there without SHEQU_DATA_KEY and
SHEQU_HASH_KEY."""

DEMO_DATA_KEY = "demo1:c2hlcXUtZGVtby1kYXRhLWtleS1ub3Qtc2VjcmV0ISE="
DEMO_HASH_KEY = "shequ-demo-hash-key-not-secret"
