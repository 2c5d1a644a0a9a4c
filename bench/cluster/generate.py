#!/usr/bin/env python3
"""Generates an environment of N objects for the cluster benchmarks.

Writes OUT/kubeship.yaml (environment `bench`, context `fake`) and OUT/clusters/bench/ with a
Namespace and N-1 objects (ConfigMaps, Services and Deployments in equal parts), one file per
object so that `kubectl diff|apply -f DIR` reads the same objects. Usage: generate.py OUT N
"""
import os
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    out, n = sys.argv[1], int(sys.argv[2])
    env = os.path.join(out, "clusters", "bench")
    os.makedirs(env, exist_ok=True)
    with open(os.path.join(out, "kubeship.yaml"), "w") as f:
        f.write("environments:\n  bench:\n    path: clusters/bench\n    context: fake\n    timeout: 5m\n")
    with open(os.path.join(env, "000-namespace.yaml"), "w") as f:
        f.write("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bench\n")
    for i in range(1, n):
        kind = i % 3
        if kind == 0:
            doc = f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-{i}
  namespace: bench
data:
  index: "{i}"
  level: info
"""
        elif kind == 1:
            doc = f"""apiVersion: v1
kind: Service
metadata:
  name: svc-{i}
  namespace: bench
spec:
  selector:
    app: app-{i}
  ports:
  - port: 80
    targetPort: 8080
"""
        else:
            doc = f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: bench
spec:
  replicas: 1
  selector:
    matchLabels:
      app: app-{i}
  template:
    metadata:
      labels:
        app: app-{i}
    spec:
      containers:
      - name: app
        image: registry.example.com/app:1.{i % 10}
        ports:
        - containerPort: 8080
"""
        with open(os.path.join(env, f"obj-{i:05d}.yaml"), "w") as f:
            f.write(doc)


if __name__ == "__main__":
    main()
