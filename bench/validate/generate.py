#!/usr/bin/env python3
"""Generates a corpus of realistic Kubernetes manifests for the validate benchmark and the
agreement test: Deployments, Services, ConfigMaps, Ingresses and CronJobs in rotation.

    generate.py --count 5000 --out DIR            # DIR/stream/all.yaml and DIR/files/NNNNN.yaml
    generate.py --count 600 --out DIR --defects   # every other object gets one known defect;
                                                  # DIR/defects.json lists them by index

Deterministic: the same arguments give the same bytes. Standard library only.
"""

import argparse
import json
import os
import random

KINDS = ["Deployment", "Service", "ConfigMap", "Ingress", "CronJob"]


def deployment(i, rnd):
    name = f"app-{i:05d}"
    replicas = rnd.choice([1, 2, 3, 5])
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: team-{i % 7}
  labels:
    app.kubernetes.io/name: {name}
    app.kubernetes.io/part-of: shop
  annotations:
    kubeship.io/owner: team-{i % 7}
spec:
  replicas: {replicas}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {name}
        app.kubernetes.io/part-of: shop
    spec:
      serviceAccountName: {name}
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
      containers:
        - name: app
          image: registry.example.com/shop/{name}:1.{i % 40}.{i % 9}
          imagePullPolicy: IfNotPresent
          args: ["--port=8080", "--log-format=json"]
          ports:
            - name: http
              containerPort: 8080
              protocol: TCP
          env:
            - name: LOG_LEVEL
              value: info
            - name: POD_NAME
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
          envFrom:
            - configMapRef:
                name: cfg-{i:05d}
          resources:
            requests:
              cpu: {rnd.choice(["50m", "100m", "250m"])}
              memory: {rnd.choice(["64Mi", "128Mi", "256Mi"])}
            limits:
              cpu: "1"
              memory: 512Mi
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 10
          livenessProbe:
            tcpSocket:
              port: 8080
            initialDelaySeconds: 15
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 1Gi
"""


def service(i, rnd):
    # Selects the Deployment generated just before it, in its namespace.
    name = f"svc-{i:05d}"
    j = i - 1
    return f"""apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: team-{j % 7}
  labels:
    app.kubernetes.io/name: {name}
spec:
  type: {rnd.choice(["ClusterIP", "ClusterIP", "NodePort"])}
  selector:
    app.kubernetes.io/name: app-{j:05d}
  ports:
    - name: http
      port: 80
      targetPort: http
      protocol: TCP
    - name: metrics
      port: 9090
      targetPort: 9090
"""


def configmap(i, rnd):
    name = f"cfg-{i:05d}"
    return f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
  namespace: team-{i % 7}
  labels:
    app.kubernetes.io/name: {name}
data:
  LOG_LEVEL: info
  FEATURE_FLAGS: "checkout,search"
  config.yaml: |
    server:
      port: 8080
      timeout: {rnd.randint(5, 60)}s
    cache:
      size: {rnd.randint(10, 1000)}
"""


def ingress(i, rnd):
    name = f"ing-{i:05d}"
    return f"""apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {name}
  namespace: team-{i % 7}
  annotations:
    nginx.ingress.kubernetes.io/proxy-body-size: 8m
spec:
  ingressClassName: nginx
  tls:
    - hosts: [app-{i:05d}.example.com]
      secretName: tls-{i:05d}
  rules:
    - host: app-{i:05d}.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: svc-{i:05d}
                port:
                  number: 80
"""


def cronjob(i, rnd):
    name = f"job-{i:05d}"
    return f"""apiVersion: batch/v1
kind: CronJob
metadata:
  name: {name}
  namespace: team-{i % 7}
spec:
  schedule: "{rnd.randint(0, 59)} {rnd.randint(0, 23)} * * *"
  concurrencyPolicy: Forbid
  successfulJobsHistoryLimit: 3
  jobTemplate:
    spec:
      backoffLimit: 2
      template:
        metadata:
          labels:
            app.kubernetes.io/name: {name}
        spec:
          restartPolicy: OnFailure
          containers:
            - name: job
              image: registry.example.com/shop/{name}:2.{i % 11}.0
              command: ["/bin/report", "--since=24h"]
              resources:
                requests:
                  cpu: 100m
                  memory: 64Mi
"""


MAKERS = {
    "Deployment": deployment,
    "Service": service,
    "ConfigMap": configmap,
    "Ingress": ingress,
    "CronJob": cronjob,
}

# Defects both tools must catch (kubernetes-validate --strict and kubeship agree), and those
# only the API server and kubeship catch (see tests/validate_agreement.rs for why).
DEFECTS = {
    "Deployment": [
        ("unknown-field", "          imagePullPolicy: IfNotPresent\n", "          imagePullPolcy: IfNotPresent\n"),
        ("string-for-int", "  revisionHistoryLimit: 5\n", "  revisionHistoryLimit: \"5\"\n"),
        ("missing-required", "        - name: app\n          image:", "        - image:"),
        ("unknown-field-top", "  revisionHistoryLimit: 5\n", "  revisionHistoryLimit: 5\n  paused: false\n  replica: 2\n"),
        ("wrong-type-list", "          args: [\"--port=8080\", \"--log-format=json\"]\n", "          args: \"--port=8080\"\n"),
        ("quantity", "              memory: 512Mi\n", "              memory: 512MB\n"),
        ("enum", "          imagePullPolicy: IfNotPresent\n", "          imagePullPolicy: Sometimes\n"),
    ],
    "Service": [
        ("string-for-int", "      port: 80\n", "      port: \"80\"\n"),
        ("unknown-field", "  selector:\n", "  selectr:\n"),
        ("enum", "      protocol: TCP\n", "      protocol: HTTP\n"),
    ],
    "ConfigMap": [
        ("non-string-value", "  LOG_LEVEL: info\n", "  LOG_LEVEL: 3\n"),
        ("unknown-field-top", "data:\n", "date:\n"),
        ("label-value", "  labels:\n    app.kubernetes.io/name: cfg", "  labels:\n    app.kubernetes.io/name: -cfg"),
    ],
    "Ingress": [
        ("missing-required", "            pathType: Prefix\n", ""),
        ("unknown-field", "              service:\n", "              serviceName: x\n              service:\n"),
        ("enum", "            pathType: Prefix\n", "            pathType: Glob\n"),
    ],
    "CronJob": [
        ("missing-required", "  schedule:", "  schedul:"),
        ("bool-for-int", "      backoffLimit: 2\n", "      backoffLimit: yes\n"),
        ("name", "  name: job-", "  name: Job_"),
    ],
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--defects", action="store_true", help="inject one defect into every other object")
    ap.add_argument("--no-files", action="store_true", help="write only the stream")
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    docs = []
    defects = []
    for i in range(args.count):
        kind = KINDS[i % len(KINDS)]
        text = MAKERS[kind](i, rnd)
        if args.defects and i % 2 == 1:
            choices = DEFECTS[kind]
            name, old, new = choices[(i // 2) % len(choices)]
            assert old in text, (kind, name)
            text = text.replace(old, new, 1)
            defects.append({"index": i, "kind": kind, "defect": name})
        docs.append(text)
    os.makedirs(os.path.join(args.out, "stream"), exist_ok=True)
    with open(os.path.join(args.out, "stream", "all.yaml"), "w") as f:
        f.write("---\n".join(docs))
    if not args.no_files:
        files = os.path.join(args.out, "files")
        os.makedirs(files, exist_ok=True)
        for i, text in enumerate(docs):
            with open(os.path.join(files, f"m{i:05d}.yaml"), "w") as f:
                f.write(text)
    if args.defects:
        with open(os.path.join(args.out, "defects.json"), "w") as f:
            json.dump(defects, f, indent=1)


if __name__ == "__main__":
    main()
