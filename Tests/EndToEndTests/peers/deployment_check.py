"""Checks the deployment files without a Docker engine: docker-compose.yml against the Compose
schema (deploy/compose.schema.json, with jsonschema), then what SPEC section 6 asks of the
topology, and that nginx and the Dockerfile agree with it. Usage: deployment_check.py ROOT"""
import json
import os
import re
import sys

import jsonschema
import yaml

root = sys.argv[1]
failures = []


def expect(condition, message):
    if not condition:
        failures.append(message)


with open(os.path.join(root, "docker-compose.yml")) as file:
    compose = yaml.safe_load(file)
with open(os.path.join(root, "deploy", "compose.schema.json")) as file:
    schema = json.load(file)
errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(compose), key=lambda e: list(e.path))
for error in errors:
    failures.append(f"schema: {'/'.join(map(str, error.path))}: {error.message}")

services = compose.get("services", {})
expect(set(services) >= {"redis", "postgres", "gateway", "points-api", "nginx"}, f"services: {sorted(services)}")
gateway = services.get("gateway", {})
expect(gateway.get("deploy", {}).get("replicas") == 3, "3 gateways by default")
expect("container_name" not in gateway and "ports" not in gateway, "gateway must scale: no container_name, no host ports")
expect(gateway.get("command") == ["gateway"], "the gateway runs `herald gateway`")
expect(services.get("points-api", {}).get("command") == ["points-api"], "points-api runs `herald points-api`")
for name in ("gateway", "points-api"):
    environment = services.get(name, {}).get("environment", {})
    expect(environment.get("HERALD_REDIS_URL") == "redis://redis:6379", f"{name} uses the redis service")
    expect("HERALD_JWT_SECRET" in environment, f"{name} needs the JWT secret")
    expect(services.get(name, {}).get("build", {}).get("dockerfile") == "deploy/Dockerfile", f"{name} builds deploy/Dockerfile")
expect(services.get("points-api", {}).get("environment", {}).get("HERALD_DB", "").startswith("postgres://"),
       "points-api keeps its ledger in PostgreSQL")
for name, service in services.items():
    for dependency in (service.get("depends_on") or {}):
        expect(dependency in services, f"{name} depends on unknown service {dependency}")
    for volume in service.get("volumes", []):
        source = volume.split(":")[0]
        if source.startswith("./"):
            expect(os.path.exists(os.path.join(root, source)), f"{name} mounts missing {source}")
        else:
            expect(source in (compose.get("volumes") or {}), f"{name} mounts undeclared volume {source}")

with open(os.path.join(root, "nginx", "docker.conf.template")) as file:
    nginx = file.read()
upstream_hosts = set(re.findall(r"server\s+([a-z0-9-]+):3000", nginx))
expect(upstream_hosts == {"gateway", "points-api"}, f"nginx upstreams name the compose services: {upstream_hosts}")
expect("resolve;" in nginx and "resolver 127.0.0.11" in nginx, "nginx re-resolves `gateway` so --scale is seen")
expect("${HERALD_TLS_CERT}" in nginx and "${HERALD_TLS_KEY}" in nginx, "TLS paths are variables")
for include in re.findall(r"include\s+/etc/nginx/herald/([a-z.]+);", nginx):
    expect(os.path.exists(os.path.join(root, "nginx", include)), f"nginx includes missing {include}")

with open(os.path.join(root, "deploy", "Dockerfile")) as file:
    dockerfile = file.read()
stages = re.findall(r"^FROM\s+(\S+)", dockerfile, re.M)
expect(len(stages) >= 2 and stages[0].startswith("swift:6.3"), f"multi-stage from a swift 6.3 image: {stages}")
expect("libhiredis" in dockerfile.split("FROM")[-1], "the runtime image has libhiredis")
expect(".resources" in dockerfile, "the runtime image carries the resource bundles (the OpenAPI document)")

if failures:
    print("\n".join(f"FAILED {failure}" for failure in failures))
    sys.exit(1)
print("ok deployment files")
