"""What several routes answer alike (the error body itself is :func:`wkmp_ai.errors.http_body`)."""
