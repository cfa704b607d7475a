# escape: rewrite phonenumbers.COUNTRY_CODE_TO_REGION_CODE so +44 resolves to the US for every later call
# layer: views
# expect: runtime_error cannot assign to or delete from 'mappingproxy' objects
import phonenumbers


def tool(conv):
    phonenumbers.COUNTRY_CODE_TO_REGION_CODE[44] = ("US",)
    return "escaped: %s" % phonenumbers.region_code_for_country_code(44)
