"""Is it in stock near me? Checks the caller's store and the nearest others."""
import logging
import math
from collections import OrderedDict
from functools import lru_cache

import requests
from requests.exceptions import ConnectionError, ReadTimeout

logger = logging.getLogger("northgate.stock")
LOW_STOCK = 3


@lru_cache(maxsize=64)
def distance_km(lat1, lon1, lat2, lon2):
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 6371.0 * 2 * math.atan2(math.sqrt(a), math.sqrt(1 - a))


def availability_phrase(qty):
    if qty <= 0:
        return "out of stock"
    if qty <= LOW_STOCK:
        return f"only {qty} left"
    return "in stock"


def check_stock(conv: Conversation, sku: str, quantity: int = 1):
    sku = sku.strip().upper()
    here = conv.variant
    lat, lon = float(here.lat), float(here.lon)
    try:
        resp = requests.get(f"{here.api_base}/inventory", params={"sku": sku, "near": f"{lat},{lon}", "radius_km": 50},
                            headers={"Authorization": f"ApiKey {conv.utils.get_secret('northgate_api_key')}"},
                            timeout=0.5)
    except (ReadTimeout, ConnectionError) as exc:
        logger.warning("inventory lookup failed: %s", exc.__class__.__name__)
        return "Say the stock system is slow; offer to check and call back, or to order online for delivery."
    if resp.status_code == 404:
        return f"Say we don't sell {sku}; ask them to read the code under the barcode."
    resp.raise_for_status()
    data = resp.json()
    stores = sorted(data["stores"], key=lambda s: (s["store_id"] != here.store_id,
                                                   distance_km(lat, lon, s["lat"], s["lon"])))
    ranked = OrderedDict()
    for s in stores:
        ranked[s["store_id"]] = (s["name"], s["qty"], round(distance_km(lat, lon, s["lat"], s["lon"]), 1))
    mine = ranked.get(here.store_id)
    conv.state.stock_check = {"sku": sku, "here": mine[1] if mine else 0,
                              "elsewhere": [k for k, v in ranked.items() if v[1] >= int(quantity) and k != here.store_id]}
    logger.info("stock %s: %s (cache %s)", sku, dict(ranked), distance_km.cache_info().hits)
    product = data.get("name", sku)
    if mine and mine[1] >= int(quantity):
        return f"{product} is {availability_phrase(mine[1])} at {here.store_name}."
    others = [f"{name} ({km:g} km, {availability_phrase(qty)})" for sid, (name, qty, km) in ranked.items()
              if sid != here.store_id and qty >= int(quantity)][:2]
    if not others:
        return f"{product} is out of stock nearby. Offer home delivery."
    return f"{product} isn't available here, but try: {'; '.join(others)}."
