"""Static assets of the web pages (HTML, CSS, JavaScript)."""
