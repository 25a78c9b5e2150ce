"""The `optviz ...` command lines a document shows, as the doc tests and the wheel test read them."""


def commands(text):
    """Every `optviz ...` command line in a text, continuations joined, comments dropped."""
    text = text.replace("\\\n", " ")
    lines = [line.split(" # ")[0].strip() for line in text.splitlines()]
    return [line for line in lines if line.startswith("optviz ")]
