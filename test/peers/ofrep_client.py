"""Evaluates tandem's gates through Python's official OpenFeature OFREP provider (PyPI
openfeature-provider-ofrep), as a service in another language would. Prints one JSON line.

usage: ofrep_client.py BASE_URL API_KEY FLAG KEY [KEY ...]
"""
import json
import sys

from openfeature import api
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext

base_url, api_key, flag, *keys = sys.argv[1:]
api.set_provider(OFREPProvider(base_url=base_url, headers_factory=lambda: {"X-API-Key": api_key}))
client = api.get_client()
results = {}
for key in keys:
    details = client.get_string_details(flag, "default", EvaluationContext(targeting_key=key))
    results[key] = {"value": details.value, "reason": str(details.reason), "variant": details.variant, "error": str(details.error_code) if details.error_code else None}
missing = client.get_string_details(flag, "default", EvaluationContext())
results["<no key>"] = {"value": missing.value, "error": str(missing.error_code) if missing.error_code else None}
print(json.dumps(results))
