"""Photos in: file checks and decoding, folder scans, samples, generated demo photos."""
