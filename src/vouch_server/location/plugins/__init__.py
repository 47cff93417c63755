"""Location plugins, one module each; ``registry`` maps a stamp's ``plugin`` name to its module."""
