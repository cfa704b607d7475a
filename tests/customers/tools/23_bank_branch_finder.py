"""Nearest branch by ZIP code or UK postcode, with a maps link for SMS."""
import math
import re
from collections import OrderedDict, namedtuple
from urllib.parse import urlencode, quote_plus

Branch = namedtuple("Branch", "name address lat lon hours")

BRANCHES = {
    "US": [
        Branch("Midtown", "350 5th Ave, New York, NY", 40.7484, -73.9857, "9-5 weekdays, 9-1 Saturday"),
        Branch("Brooklyn Heights", "75 Montague St, Brooklyn, NY", 40.6946, -73.9940, "9-5 weekdays"),
        Branch("Jersey City", "30 Montgomery St, Jersey City, NJ", 40.7178, -74.0431, "9-6 weekdays"),
        Branch("Back Bay", "500 Boylston St, Boston, MA", 42.3505, -71.0760, "9-5 weekdays"),
    ],
    "GB": [
        Branch("Bank", "1 Poultry, London", 51.5134, -0.0899, "9-5 weekdays"),
        Branch("Canary Wharf", "25 Cabot Square, London", 51.5054, -0.0235, "8-6 weekdays"),
        Branch("Manchester", "1 Spinningfields, Manchester", 53.4808, -2.2536, "9-5 weekdays, 9-12 Saturday"),
    ],
}
CENTROIDS = OrderedDict([
    ("10001", (40.7506, -73.9972)), ("11201", (40.6940, -73.9903)), ("07302", (40.7196, -74.0431)),
    ("02116", (42.3496, -71.0746)), ("EC2", (51.5155, -0.0922)), ("E14", (51.5049, -0.0197)),
    ("M3", (53.4839, -2.2446)),
])
UK_POSTCODE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)\s*(\d[A-Z]{2})?$")
US_ZIP = re.compile(r"^(\d{5})(?:-\d{4})?$")


def haversine_miles(a, b):
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 3958.8 * 2 * math.asin(math.sqrt(h))


def locate(code):
    code = code.strip().upper()
    if m := US_ZIP.match(code):
        return "US", CENTROIDS.get(m.group(1))
    if m := UK_POSTCODE.match(code):
        district = m.group(1)
        for key in (district, district.rstrip("ABCDEFGHJKLMNPRSTUVWXY"), re.sub(r"\d.*$", "", district)):
            if key in CENTROIDS:
                return "GB", CENTROIDS[key]
        return "GB", None
    return None, None


def find_branch(conv: Conversation, postcode: str):
    country, point = locate(postcode)
    if country is None:
        return "Ask for a five-digit ZIP code or a UK postcode."
    if point is None:
        return f"Say we don't have a branch near {postcode.upper()}; offer the nearest city instead."
    ranked = sorted(BRANCHES[country], key=lambda b: haversine_miles(point, (b.lat, b.lon)))
    nearest, *others = ranked
    distance = haversine_miles(point, (nearest.lat, nearest.lon))
    unit, factor = ("miles", 1) if country == "US" else ("km", 1.609344)
    link = "https://maps.example.com/?" + urlencode({"q": nearest.address, "z": 15}, quote_via=quote_plus)
    conv.state.branch = nearest._asdict()
    conv.state.branch_link = link
    others = ", ".join(b.name for b in others[:2])
    return (f"The nearest branch is {nearest.name}, {nearest.address}, about {distance * factor:.1f} {unit} away, "
            f"open {nearest.hours}. Other nearby branches: {others}. Offer to text the link.")
