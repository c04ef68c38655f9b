"""The checks of bench/faults.py: each printed as it is made, the failed ones kept for the
summary at its end."""

failures = []


def check(condition, message):
    print(f"  {'ok' if condition else 'FAILED'}: {message}", flush=True)
    if not condition:
        failures.append(message)
    return condition
