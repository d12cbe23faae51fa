"""Images: which an article references, fetching and checking them, the media store's
layout (files named by their sha256), links to the mirrored copies."""
