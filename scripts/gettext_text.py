"""Clean sentences from Debian's gettext catalogues (/usr/share/locale/LANG/LC_MESSAGES/*.mo): every
translated message whose English source is a sentence, with placeholders, mnemonics and markup
removed. Shared by scripts/derive-profiles.py (threshold profiles) and scripts/demo.sh (the demo's
Basque corpus and its held-out task)."""
import os, re, struct

LOCALES = "/usr/share/locale"


def read_mo(path):
    """msgid -> msgstr of one .mo file (first plural form, context dropped)."""
    data = open(path, "rb").read()
    if len(data) < 20:
        return {}
    order = "<" if struct.unpack("<I", data[:4])[0] == 0x950412DE else ">"
    _, n, orig, trans = struct.unpack(order + "4I", data[4:20])
    out = {}
    for k in range(n):
        l1, o1 = struct.unpack(order + "2I", data[orig + 8 * k: orig + 8 * k + 8])
        l2, o2 = struct.unpack(order + "2I", data[trans + 8 * k: trans + 8 * k + 8])
        msgid = data[o1:o1 + l1].decode("utf-8", "replace")
        msgstr = data[o2:o2 + l2].decode("utf-8", "replace")
        if not msgid:
            continue  # the header
        msgid = msgid.split("\x04")[-1].split("\x00")[0]
        out[msgid] = msgstr.split("\x00")[0]
    return out


def clean(s):
    s = re.sub(r"%(\d+\$)?[-+ #0']*\d*(\.\d+)?(hh|h|ll|l|L|z|j|t)?[a-zA-Z%]", " ", s)
    s = re.sub(r"\{[^{}]*\}|<[^<>]*>|\$\{?\w+\}?", " ", s)
    s = s.replace("_", "").replace("&", "")
    return " ".join(s.split())


def sentences(locale):
    """The locale's translated sentences, sorted and unique: messages whose English source has
    four words or more and ends in . ! ? or :, and whose translation differs from it."""
    d = os.path.join(LOCALES, locale, "LC_MESSAGES")
    out = set()
    if not os.path.isdir(d):
        return []
    for f in sorted(os.listdir(d)):
        if not f.endswith(".mo") or f.startswith("iso_"):
            continue
        for msgid, msgstr in read_mo(os.path.join(d, f)).items():
            text = clean(msgstr)
            if len(clean(msgid).split()) >= 4 and msgid.rstrip()[-1:] in ".!?:" and text and text != clean(msgid):
                out.add(text)
    return sorted(out)
