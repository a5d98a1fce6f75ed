"""A Kubernetes API test double for the harness's own tests: a real HTTPS server on 127.0.0.1 that the real
kubectl reaches through a kubeconfig. Test equipment only: nothing it serves is cluster evidence."""
