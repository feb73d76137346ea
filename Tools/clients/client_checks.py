"""Named checks for the client scenarios (kms-client.py, vault-client.py): each scenario prints one JSON object,
{"checks": [{"name", "ok", "detail"?, "trace"?}]}, and Tests/KBSServerTests/ClientScenario.swift asserts every one
passed. Loaded by file path (the scripts keep their own folder off sys.path, so nothing here can shadow a library)."""
import json
import traceback


class Checks:
    """Runs named checks; a check passes when its function returns without raising."""

    def __init__(self):
        self.results = []

    def run(self, name, function):
        try:
            detail = function()
            self.results.append({"name": name, "ok": True, **({"detail": detail} if detail is not None else {})})
        except Exception as error:  # a failed check is reported, never fatal: the report names every failure
            self.results.append({"name": name, "ok": False, "detail": f"{type(error).__name__}: {error}",
                                 "trace": traceback.format_exc(limit=3)})

    def report(self, **extra):
        print(json.dumps({"checks": self.results, **extra}))

