"""HTTP pieces the API and the web pages share: auth, request context, problems, metrics."""
