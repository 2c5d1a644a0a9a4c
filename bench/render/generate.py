#!/usr/bin/env python3
"""Generates kustomize benchmark inputs for `kubeship render` vs `kubectl kustomize`.

For each size N it writes OUT/N/base (a kustomization of N resources: Deployments, Services,
ConfigMaps and ServiceAccounts that reference each other, split over files of 50 documents,
plus a few generators) and an overlay chain over it: OUT/N/staging (namePrefix, labels,
images, strategic-merge and JSON patches) and OUT/N/prod (namespace, suffix, replicas,
annotations, a generator merge). Usage: generate.py OUT SIZE [SIZE...]
"""
import os
import sys


def deployment(i):
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  labels:
    app: app-{i}
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
      serviceAccountName: sa-{i}
      containers:
      - name: main
        image: registry.example.com/team/app:1.0.{i % 50}
        ports:
        - containerPort: 8080
          name: http
        envFrom:
        - configMapRef:
            name: config-{i}
        env:
        - name: INDEX
          value: "{i}"
        resources:
          requests:
            cpu: 50m
            memory: 64Mi
"""


def service(i):
    return f"""apiVersion: v1
kind: Service
metadata:
  name: app-{i}
spec:
  selector:
    app: app-{i}
  ports:
  - name: http
    port: 80
    targetPort: http
"""


def configmap(i):
    return f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: config-{i}
data:
  LOG_LEVEL: info
  INDEX: "{i}"
"""


def service_account(i):
    return f"""apiVersion: v1
kind: ServiceAccount
metadata:
  name: sa-{i}
"""


KINDS = [deployment, service, configmap, service_account]


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def generate(out, n):
    root = os.path.join(out, str(n))
    docs = []
    # N resources, four kinds per "app"; references stay inside the set.
    apps = (n + len(KINDS) - 1) // len(KINDS)
    for i in range(apps):
        for k in KINDS:
            if len(docs) < n:
                docs.append(k(i))
    files = []
    for start in range(0, len(docs), 50):
        name = f"resources-{start // 50:04d}.yaml"
        write(os.path.join(root, "base", name), "---\n".join(docs[start:start + 50]))
        files.append(name)
    write(os.path.join(root, "base", "kustomization.yaml"),
          "resources:\n" + "".join(f"- {f}\n" for f in files) +
          "configMapGenerator:\n- name: shared\n  literals:\n  - REGION=eu-west-1\n  - TIER=standard\n")
    write(os.path.join(root, "staging", "kustomization.yaml"), """resources:
- ../base
namePrefix: stg-
labels:
- pairs:
    stage: staging
  includeSelectors: false
  includeTemplates: true
images:
- name: registry.example.com/team/app
  newTag: 2.0.0
patches:
- target:
    kind: Deployment
  patch: |-
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: any
    spec:
      template:
        spec:
          containers:
          - name: main
            env:
            - name: STAGE
              value: staging
- target:
    kind: Service
  patch: |-
    - op: add
      path: /metadata/annotations
      value:
        stage: staging
""")
    write(os.path.join(root, "prod", "kustomization.yaml"), """resources:
- ../staging
namespace: production
nameSuffix: -prod
commonAnnotations:
  owner: platform
replicas:
- name: stg-app-0
  count: 3
configMapGenerator:
- name: shared
  behavior: merge
  literals:
  - TIER=premium
""")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out = sys.argv[1]
    for size in sys.argv[2:]:
        generate(out, int(size))


if __name__ == "__main__":
    main()
