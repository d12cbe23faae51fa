"""Writers that turn the store into files, incrementally and atomically."""
