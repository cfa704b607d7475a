"""Answers "is the X safe for my allergy?" from the kitchen's allergen matrix."""
import difflib
import re
import textwrap
import unicodedata
from enum import Flag, auto


class Allergen(Flag):
    NONE = 0
    GLUTEN = auto()
    DAIRY = auto()
    NUTS = auto()
    SHELLFISH = auto()
    EGG = auto()
    SESAME = auto()

    @classmethod
    def parse(cls, text):
        found = cls.NONE
        for word in re.findall(r"[a-z]+", text.lower()):
            word = ALIASES.get(word, word)
            if word.upper() in cls.__members__:
                found |= cls[word.upper()]
        return found


ALIASES = {"wheat": "gluten", "milk": "dairy", "lactose": "dairy", "peanut": "nuts", "peanuts": "nuts",
           "almonds": "nuts", "shrimp": "shellfish", "prawns": "shellfish", "eggs": "egg"}

MENU = {
    "Crème Brûlée": Allergen.DAIRY | Allergen.EGG,
    "Cacio e Pepe": Allergen.GLUTEN | Allergen.DAIRY,
    "Gamberi alla Griglia": Allergen.SHELLFISH,
    "Insalata Verde": Allergen.NONE,
    "Pesto Genovese": Allergen.GLUTEN | Allergen.DAIRY | Allergen.NUTS,
    "Tuna Tartare": Allergen.SESAME,
    "Polenta Fries": Allergen.NONE,
}

SUBSTITUTIONS = {Allergen.GLUTEN: "gluten-free pasta", Allergen.DAIRY: "no cheese"}


def _plain(text):
    """crème brûlée -> creme brulee, so callers don't need accents."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


_INDEX = {_plain(name): name for name in MENU}


def find_dish(spoken):
    key = _plain(spoken)
    if key in _INDEX:
        return _INDEX[key]
    close = difflib.get_close_matches(key, list(_INDEX), n=1, cutoff=0.6)
    return _INDEX[close[0]] if close else None


def describe(flags):
    names = [member.name.lower() for member in Allergen if member and member in flags]
    return ", ".join(names) if names else "none of the major allergens"


def check_dish(conv: Conversation, dish: str, allergies: str = ""):
    name = find_dish(dish)
    if name is None:
        log.info(f"no dish matched {dish!r}")
        options = textwrap.shorten(", ".join(sorted(MENU)), width=80, placeholder=", and more")
        return f"Say we couldn't find that dish. Our menu includes: {options}."

    contains = MENU[name]
    avoid = Allergen.parse(allergies or conv.state.allergies or "")
    if allergies:
        conv.state.allergies = allergies
    clash = contains & avoid
    log.debug(f"{name}: contains={contains!r} avoid={avoid!r}")
    if not clash:
        return f"{name} contains {describe(contains)}. It is fine for a {describe(avoid)} allergy."

    fixes = [SUBSTITUTIONS[a] for a in Allergen if a in clash and a in SUBSTITUTIONS]
    conv.state.flagged_dishes = sorted(set((conv.state.flagged_dishes or []) + [name]))
    if fixes and len(fixes) == len([a for a in Allergen if a and a in clash]):
        return f"{name} contains {describe(clash)}, but the kitchen can make it with {' and '.join(fixes)}."
    return {"utterance": f"I'm sorry, the {name} contains {describe(clash)} and can't be made safely.",
            "content": "Suggest a dish without those allergens."}
