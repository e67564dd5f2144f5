"""Photos to vectors: backbones and their weights, the embed pipeline, the content-addressed cache."""
