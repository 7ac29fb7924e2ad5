"""ICAO issuing-state codes and ISO 3166-1 country codes (ICAO Doc 9303-3 §5).

The MRZ and DG1 name the issuing state and nationality by a three-letter code
(9303-3 §5: ISO 3166-1 alpha-3 plus a few codes of ICAO's own); X.509
certificates name a country by its ISO 3166-1 alpha-2 code (9303-12 §7.1.1,
RFC 5280 ``countryName``). :data:`ICAO_TO_ISO_ALPHA2` maps the first to the
second; :func:`alpha2` looks a code up as it appears in an MRZ.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["ICAO_TO_ISO_ALPHA2", "ISSUING_STATE_COUNTRIES", "alpha2", "certificate_countries"]

# ISO 3166-1 alpha-3 -> alpha-2 (all 249 codes; from the Debian iso-codes ISO 3166-1 table),
# packed as "AAABB" tokens.
_ISO3166 = """
ABWAW AFGAF AGOAO AIAAI ALAAX ALBAL ANDAD AREAE ARGAR ARMAM ASMAS ATAAQ ATFTF ATGAG AUSAU
AUTAT AZEAZ BDIBI BELBE BENBJ BESBQ BFABF BGDBD BGRBG BHRBH BHSBS BIHBA BLMBL BLRBY BLZBZ
BMUBM BOLBO BRABR BRBBB BRNBN BTNBT BVTBV BWABW CAFCF CANCA CCKCC CHECH CHLCL CHNCN CIVCI
CMRCM CODCD COGCG COKCK COLCO COMKM CPVCV CRICR CUBCU CUWCW CXRCX CYMKY CYPCY CZECZ DEUDE
DJIDJ DMADM DNKDK DOMDO DZADZ ECUEC EGYEG ERIER ESHEH ESPES ESTEE ETHET FINFI FJIFJ FLKFK
FRAFR FROFO FSMFM GABGA GBRGB GEOGE GGYGG GHAGH GIBGI GINGN GLPGP GMBGM GNBGW GNQGQ GRCGR
GRDGD GRLGL GTMGT GUFGF GUMGU GUYGY HKGHK HMDHM HNDHN HRVHR HTIHT HUNHU IDNID IMNIM INDIN
IOTIO IRLIE IRNIR IRQIQ ISLIS ISRIL ITAIT JAMJM JEYJE JORJO JPNJP KAZKZ KENKE KGZKG KHMKH
KIRKI KNAKN KORKR KWTKW LAOLA LBNLB LBRLR LBYLY LCALC LIELI LKALK LSOLS LTULT LUXLU LVALV
MACMO MAFMF MARMA MCOMC MDAMD MDGMG MDVMV MEXMX MHLMH MKDMK MLIML MLTMT MMRMM MNEME MNGMN
MNPMP MOZMZ MRTMR MSRMS MTQMQ MUSMU MWIMW MYSMY MYTYT NAMNA NCLNC NERNE NFKNF NGANG NICNI
NIUNU NLDNL NORNO NPLNP NRUNR NZLNZ OMNOM PAKPK PANPA PCNPN PERPE PHLPH PLWPW PNGPG POLPL
PRIPR PRKKP PRTPT PRYPY PSEPS PYFPF QATQA REURE ROURO RUSRU RWARW SAUSA SDNSD SENSN SGPSG
SGSGS SHNSH SJMSJ SLBSB SLESL SLVSV SMRSM SOMSO SPMPM SRBRS SSDSS STPST SURSR SVKSK SVNSI
SWESE SWZSZ SXMSX SYCSC SYRSY TCATC TCDTD TGOTG THATH TJKTJ TKLTK TKMTM TLSTL TONTO TTOTT
TUNTN TURTR TUVTV TWNTW TZATZ UGAUG UKRUA UMIUM URYUY USAUS UZBUZ VATVA VCTVC VENVE VGBVG
VIRVI VNMVN VUTVU WLFWF WSMWS YEMYE ZAFZA ZMBZM ZWEZW
"""
#: MRZ issuing-state code (9303-3 §5) -> the ISO 3166-1 alpha-2 code in certificates.
#: Adds the Doc 9303 codes outside ISO 3166-1 alpha-3 that have a certificate country:
#: ``D`` (Germany), the ``GB?`` British codes, ``EUE`` (European Union), ``RKS``
#: (Kosovo, C=XK) and ``UTO`` (Utopia, the fictional state of 9303 specimens and of
#: the epass TEST PKI, C=UT).
ICAO_TO_ISO_ALPHA2: Mapping[str, str] = MappingProxyType(
    {
        **{tok[:3]: tok[3:] for tok in _ISO3166.split()},
        "D": "DE",
        "GBD": "GB",
        "GBN": "GB",
        "GBO": "GB",
        "GBP": "GB",
        "GBS": "GB",
        "EUE": "EU",
        "RKS": "XK",
        "UTO": "UT",
    }
)


def alpha2(code: str) -> str | None:
    """The ISO 3166-1 alpha-2 code for an MRZ issuing-state or nationality code, or ``None``.

    :param code: as in the MRZ: ``"D<<"``, ``"NLD"``, ``"UTO"``; fillers (``<``),
        surrounding spaces and case are ignored.
    """
    return ICAO_TO_ISO_ALPHA2.get(code.replace("<", "").strip().upper())


#: Issuing-state codes of Doc 9303-3 §5 whose certificate country is not simply the
#: alpha-2 code of :data:`ICAO_TO_ISO_ALPHA2`, or not one country at all: ``D``
#: (Germany, C=DE); the British ``GBR/GBD/GBN/GBO/GBS/GBP`` (all issued under C=GB);
#: ``UNO``/``UNA`` (United Nations and its agencies, C=UN) and ``UNK`` (UNMIK Kosovo,
#: C=UN or XK); ``EUE`` (European Union, C=EU). ``XXA``/``XXB``/``XXC`` (stateless,
#: refugee, other) name no country: an empty set, nothing to compare.
ISSUING_STATE_COUNTRIES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "D": frozenset({"DE"}),
        **{code: frozenset({"GB"}) for code in ("GBR", "GBD", "GBN", "GBO", "GBS", "GBP")},
        "UNO": frozenset({"UN"}),
        "UNA": frozenset({"UN"}),
        "UNK": frozenset({"UN", "XK"}),
        "XXA": frozenset(),
        "XXB": frozenset(),
        "XXC": frozenset(),
        "EUE": frozenset({"EU"}),
    }
)


def certificate_countries(
    code: str, exceptions: Mapping[str, frozenset[str]] = ISSUING_STATE_COUNTRIES
) -> frozenset[str] | None:
    """The certificate countries (ISO 3166-1 alpha-2) an MRZ issuing state may be signed under.

    :param code: as in the MRZ (fillers, spaces and case ignored).
    :param exceptions: the codes handled specially (:data:`ISSUING_STATE_COUNTRIES`).
    :returns: the set of alpha-2 codes; an empty set for a code that names no
        country (``XXA``); ``None`` for an unknown code.
    """
    clean = code.replace("<", "").strip().upper()
    if clean in exceptions:
        return exceptions[clean]
    single = ICAO_TO_ISO_ALPHA2.get(clean)
    return None if single is None else frozenset({single})
