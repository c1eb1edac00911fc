"""Static files for production: WhiteNoise's compressed, content-hashed storage, tolerant of
the few references inside viewflow's shipped CSS to font files it does not ship (those stay
unhashed instead of stopping ``collectstatic``)."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    def hashed_name(self, name, content=None, filename=None):
        try:
            return super().hashed_name(name, content, filename)
        except ValueError:  # a file referenced by a third-party stylesheet but not shipped
            if content is not None or self.exists(name):
                raise
            return name
