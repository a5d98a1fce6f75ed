"""The manifest set: rendering (kustomize or plain YAML) and the typed object model."""
