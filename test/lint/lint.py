"""What the lint checks share: the command line, SOURCE_ROOT or --self-test."""
import sys


def main(name, check, self_test):
    """check(root) -> (errors, files read); self_test() -> exit status."""
    if len(sys.argv) != 2:
        print(f"usage: {name}.py SOURCE_ROOT | --self-test")
        return 2
    if sys.argv[1] == "--self-test":
        return self_test()
    errors, count = check(sys.argv[1])
    for e in errors:
        print(e)
    if errors:
        print(f"{name}: {len(errors)} error(s); the rules are in test/lint/{name}.py")
        return 1
    print(f"{name}: {count} files, no error")
    return 0


def planted(name, check, files, expected, caught):
    """The self-test: writes `files` ((path, text) pairs) into a temporary
    tree, runs check on it and compares its errors with `expected`."""
    import os
    import tempfile
    with tempfile.TemporaryDirectory() as root:
        for path, text in files:
            os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
            with open(os.path.join(root, path), "w") as f:
                f.write(text)
        errors, _ = check(root)
    if errors != expected:
        print(f"{name} self-test failed:", errors)
        return 1
    print(f"{name} self-test: {caught}")
    return 0
