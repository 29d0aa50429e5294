"""Functions the web TaskList test defers (importable by the task processes)."""


def shout(text):
    print(f"shouting {text}")
    return text.upper()


def broken(text):
    raise ValueError(f"cannot handle {text}")
