# escape: spell a forbidden attribute in fullwidth letters (x.ｆｏｒｍａｔ), hoping the checker compares the raw text; Python folds identifiers with NFKC, so it runs as .format
# layer: compile
# expect: compile_error attribute 'gi_frame' is not available to tools
# moved: '.format' was the forbidden name spelled here; str.format is now the guarded formatter, so the fullwidth spelling targets a door that stays refused: ｇｉ_ｆｒａｍｅ folds to gi_frame
def tool(conv):
    return str((x for x in [1]).ｇｉ_ｆｒａｍｅ)
