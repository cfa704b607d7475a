"""Price match promise: we match a lower price from a listed competitor's website."""
import logging
from decimal import Decimal, InvalidOperation
from difflib import SequenceMatcher
from urllib.parse import urlparse

logger = logging.getLogger(__name__)

COMPETITORS = {"homebase.example": "HomeBase", "diy-world.example": "DIY World", "gardenking.example": "Garden King"}
CATALOGUE = {"NG-10442": ("Bosch cordless drill 18V", Decimal("89.00")),
             "NG-20871": ("Weber kettle barbecue 57cm", Decimal("199.99")),
             "NG-33100": ("Fiskars bypass pruner", Decimal("24.50"))}
STRIP = str.maketrans("", "", "£$€, ")


def parse_price(text):
    try:
        return Decimal(str(text).translate(STRIP))
    except InvalidOperation:
        return None


def price_match(conv: Conversation, sku: str, competitor_url: str, competitor_price: str, competitor_title: str = ""):
    item = CATALOGUE.get(sku.upper())
    if item is None:
        return "Ask for the Northgate product code from the shelf label."
    name, our_price = item
    host = (urlparse(competitor_url if "://" in competitor_url else "https://" + competitor_url).hostname or "").lower()
    host = host[4:] if host.startswith("www.") else host
    competitor = COMPETITORS.get(host)
    if competitor is None:
        logger.warning("price match refused for %s: %s is not a listed competitor", sku, host)
        return "Explain we only match %s." % ", ".join(sorted(COMPETITORS.values()))
    theirs = parse_price(competitor_price)
    if theirs is None or theirs <= 0:
        return "Ask them to read the competitor's price again."
    if competitor_title:
        similarity = SequenceMatcher(None, name.lower(), competitor_title.lower()).ratio()
        if similarity < 0.5:
            logger.info("titles differ (%.2f): %r vs %r", similarity, name, competitor_title)
            return "The products may not be identical; ask them to confirm the model number."
    if theirs >= our_price:
        return "Our price of £%s is already the same or lower than %s's £%s." % (our_price, competitor, theirs)
    saving = our_price - theirs
    conv.state.price_match = {"sku": sku.upper(), "competitor": competitor, "price": str(theirs), "saving": str(saving)}
    logger.info("price match %s at %s: %s -> %s", sku, competitor, our_price, theirs)
    return "We'll match %s: the %s is £%.2f instead of £%.2f, a saving of £%.2f." % (
        competitor, name, theirs, our_price, saving)
