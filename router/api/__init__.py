"""The JSON API's controllers (composed into the app by `router.app`)."""
