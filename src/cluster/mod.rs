//! The only module that talks to a Kubernetes API server (and the only one importing kube).
