"""The HTTP service: the Flask app, its views, gunicorn config and web page."""
