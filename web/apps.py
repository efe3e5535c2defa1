from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "web"
    verbose_name = "Web interface"

    def ready(self):
        import mimetypes

        # The QR reader's WebAssembly must be served as application/wasm to compile while it streams
        # in; Python 3.11's table does not know the extension yet.
        mimetypes.add_type("application/wasm", ".wasm")
