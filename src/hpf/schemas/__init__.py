"""marshmallow schemas: request/response shapes; they also generate the OpenAPI document."""
