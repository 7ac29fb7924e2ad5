"""The session as named steps: EF.CardAccess, SELECT, access control, files, chip authentication.

ICAO Doc 9303-11 §4.2: EF.CardAccess is read from the master file before the
application is selected, and decides the access protocol (absent, ``6A82``:
BAC only). A chip that offers PACE but is read with BAC is reported, not hidden.
9303-10 §4.6: one data group that cannot be read never loses the others.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from drivers.replay import ScriptedTransport
from drivers.virtual.builder import specimen
from drivers.virtual.chip import ChipConfig, Faults, VirtualChip
from drivers.virtual.transport import VirtualTransport
from epass import reader as reader_module
from epass import tlv
from epass.access.control import (
    AccessPolicy,
    AccessProtocol,
    AccessResult,
    CardAccessOffer,
    choose_access_control,
)
from epass.access.keys import CanKey, MrzKey
from epass.channel import Channel
from epass.errors import (
    AccessControlError,
    CardRemovedError,
    LocalProtocolError,
    SecureMessagingError,
)
from epass.filesystem import FileReader
from epass.lds import com
from epass.lds import document as document_module
from epass.lds.document import Document
from epass.lds.files import EMRTD_AID, LdsFile
from epass.lds.security_infos import ID_PACE, encode_pace_info, encode_security_infos
from epass.pa import verify
from epass.pa.report import Verdict
from epass.reader import (
    NOT_PERFORMED,
    ChipSession,
    DocumentRead,
    Phase,
    ProgressEvent,
    ReadOptions,
    ReadResult,
)

AT = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
MRZ = "L898902C<369080619406236"
#: id-PACE-ECDH-GM-AES-CBC-CMAC-128 on brainpoolP256r1 (standardized parameters 13).
PACE_GM_AES128 = f"{ID_PACE}.2.2"
CARD_ACCESS_PACE = encode_security_infos([encode_pace_info(PACE_GM_AES128, parameter_id=13)])


def read_specimen(*, config=None, faults=None, options=None, progress=None):
    doc = specimen()
    session = ChipSession(
        doc.transport(config=config, faults=faults), options=options, progress=progress
    )
    return doc, session, session.read(MrzKey(doc.mrz_information))


# -- phases and progress ---------------------------------------------------------------


def test_phase_numbers_are_stable():
    assert [(p.name, int(p)) for p in Phase] == [
        ("READ_CARD_ACCESS", 1),
        ("SELECT_APPLICATION", 2),
        ("ACCESS_CONTROL", 3),
        ("READ_FILES", 4),
        ("CHIP_AUTHENTICATION", 5),
        ("DONE", 6),
    ]


def test_specimen_phases_come_in_order_and_byte_counts_are_monotone():
    events: list[ProgressEvent] = []
    doc, _, result = read_specimen(progress=events.append)
    phases = [e.phase for e in events]
    assert phases == sorted(phases)
    assert [e.phase for e in events if e.file is None] == list(Phase)
    by_file: dict[LdsFile, list[ProgressEvent]] = {}
    for e in events:
        if e.file is not None:
            by_file.setdefault(e.file, []).append(e)
    # EF.CardAccess is absent on the specimen: its read starts and ends with 6A82.
    assert [(e.done, e.total) for e in by_file.pop(LdsFile.EF_CARD_ACCESS)] == [(0, None)]
    assert {e.phase for e in by_file.pop(LdsFile.EF_ATR_INFO)} == {Phase.READ_CARD_ACCESS}
    assert set(by_file) == set(doc.files)
    for file, file_events in by_file.items():
        assert all(e.phase is Phase.READ_FILES for e in file_events)
        assert (file_events[0].done, file_events[0].total) == (0, None)
        done = [e.done for e in file_events]
        assert done == sorted(done), file
        assert file_events[-1].done == file_events[-1].total == len(doc.files[file])
    assert result.files == doc.dump()


def test_short_reads_report_every_chunk():
    # Without chip authentication the files are read under BAC's 3DES session: 231 bytes
    # per short READ BINARY (256 - the SM overhead of a block size of 8).
    events: list[ProgressEvent] = []
    doc, _, _ = read_specimen(
        config=ChipConfig(extended_length=False),
        progress=events.append,
        options=ReadOptions(chip_authentication=False),
    )
    dg2 = [e for e in events if e.file is LdsFile.DG2]
    size = len(doc.files[LdsFile.DG2])
    assert len(dg2) == 1 + -(-size // 231)  # the start, then one event per READ BINARY
    assert [e.done for e in dg2[1:]] == [min(231 * k, size) for k in range(1, len(dg2))]
    assert all(e.total == size for e in dg2[1:])


def test_read_document_alone_runs_no_chip_authentication_step():
    doc = specimen()
    events: list[ProgressEvent] = []
    session = ChipSession(doc.transport(), progress=events.append)
    session.open(MrzKey(doc.mrz_information))
    result = session.read_document()
    assert result.chip_authentication is NOT_PERFORMED
    assert Phase.CHIP_AUTHENTICATION not in {e.phase for e in events}
    assert [e.phase for e in events if e.file is None] == list(Phase)[:4]


# -- the result ----------------------------------------------------------------------------


def test_specimen_result_shape():
    doc, session, result = read_specimen(options=ReadOptions(chip_authentication=False))
    assert DocumentRead is ReadResult
    assert isinstance(result.document, Document)
    assert result.files == doc.dump()
    assert result.document.labelled() == doc.dump()
    assert result.access == AccessResult(AccessProtocol.BAC, False, (), None)
    assert result.access_protocol == "BAC" == session.access_protocol
    assert result.card_access is None
    assert result.not_read == {} and result.not_read_labelled == {}
    assert result.chip_authentication.performed is False
    assert result.chip_authentication.protocol is None
    assert "not performed" in result.chip_authentication.detail
    assert "disabled" in result.chip_authentication.detail
    # EF.ATR/INFO, EF.CardAccess (6A82), SELECT, GET CHALLENGE, EXTERNAL AUTHENTICATE, 6 files
    assert result.stats.apdus == 11
    assert verify(result.files, doc.trust_store(), at=AT).verdict is Verdict.VALID


def test_specimen_read_runs_chip_and_active_authentication_interleaved():
    doc, _, result = read_specimen()
    assert result.files == doc.dump()
    chip = result.chip_authentication
    assert chip.performed and chip.protocol == "CA+AA"
    ca, aa = chip.run("CA"), chip.run("AA")
    assert ca is not None and ca.passed and ca.key_file is LdsFile.DG14
    assert "READ BINARY DG1 answered under the new keys" in ca.detail  # no extra APDU
    assert aa is not None and aa.passed and aa.key_file is LdsFile.DG15
    assert len(aa.evidence["challenge"]) == 8
    # the 11 of the plain read, + MSE:Set AT and GENERAL AUTHENTICATE, + INTERNAL AUTHENTICATE
    assert result.stats.apdus == 11 + 2 + 1
    assert result.stats.by_command["INTERNAL AUTHENTICATE"] == 1


def test_sod_is_parsed_once_for_reader_and_verifier(monkeypatch):
    calls: list[LdsFile] = []
    counting = {}
    for file, parser in document_module.PARSERS.items():

        def wrapped(data, file=file, parser=parser):
            calls.append(file)
            return parser(data)

        counting[file] = wrapped
    monkeypatch.setattr(document_module, "PARSERS", counting)
    _, _, result = read_specimen()
    assert calls.count(LdsFile.EF_SOD) == 1  # the reader learnt the data groups from it
    sod = result.document.sod
    assert sod is not None and result.document.sod is sod
    assert calls.count(LdsFile.EF_SOD) == 1  # and the document handed on did not parse again


def test_document_with_files_keeps_parsed_views():
    doc = specimen()
    first = Document({LdsFile.EF_SOD: doc.files[LdsFile.EF_SOD]})
    sod = first.sod
    grown = first.with_files({LdsFile.DG1: doc.files[LdsFile.DG1]})
    assert grown.sod is sod
    assert set(grown) == {LdsFile.EF_SOD, LdsFile.DG1} and set(first) == {LdsFile.EF_SOD}
    replaced = grown.with_files({LdsFile.EF_SOD: doc.files[LdsFile.EF_SOD][:-1] + b"\x00"})
    assert replaced.sod is not sod  # a replaced file is parsed afresh


def test_reader_constants_come_from_the_file_table():
    assert reader_module.EMRTD_AID is EMRTD_AID


# -- EF.CardAccess and the choice of access control -----------------------------------------


def test_pace_offered_bac_used_is_reported_not_hidden():
    doc, _, result = read_specimen(
        config=ChipConfig(card_access=CARD_ACCESS_PACE),
        options=ReadOptions(access_policy=AccessPolicy(bac_only=True)),
    )
    access = result.access
    assert access.protocol is AccessProtocol.BAC
    assert access.card_access_present is True
    assert access.pace_offered == ("id-PACE-ECDH-GM-AES-CBC-CMAC-128",)
    assert access.fallback is not None
    assert "offers PACE" in access.fallback and "BAC was used" in access.fallback
    assert "BAC only" in access.fallback
    assert result.card_access == CARD_ACCESS_PACE
    assert result.document.card_access is not None
    assert result.document.card_access.pace_infos[0].parameter_id == 13
    assert result.files["EF.CardAccess"] == CARD_ACCESS_PACE
    # EF.CardAccess in one READ BINARY instead of a 6A82; + CA (2) and AA (1)
    assert result.stats.apdus == 11 + 3
    report = verify(result.files, doc.trust_store(), at=AT)
    assert report.verdict is Verdict.VALID


def test_card_access_is_read_plain_from_the_master_file_before_select():
    doc = specimen()
    sent: list[bytes] = []
    transport = doc.transport(config=ChipConfig(card_access=CARD_ACCESS_PACE))
    inner = transport.transmit

    def record(apdu: bytes) -> bytes:
        sent.append(apdu)
        return inner(apdu)

    transport.transmit = record  # type: ignore[method-assign]
    ChipSession(transport).open(MrzKey(doc.mrz_information))
    # EF.ATR/INFO by SFI 01, EF.CardAccess by SFI 1C (plain CLA 00), then PACE in the master
    # file (MSE:Set AT, four GENERAL AUTHENTICATE chained with CLA 10), then SELECT the applet
    # under PACE secure messaging (9303-11 §4.2).
    assert sent[0][:4] == bytes.fromhex("00B08100")
    assert sent[1][:4] == bytes.fromhex("00B09C00")
    assert sent[2][:4] == bytes.fromhex("0022C1A4")
    assert [a[:2] for a in sent[3:7]] == [bytes.fromhex("1086")] * 3 + [bytes.fromhex("0086")]
    assert sent[7][:4] == bytes.fromhex("0CA4040C")
    assert len(sent) == 8


def test_card_access_absent_means_select_then_bac():
    doc = specimen()
    sent: list[bytes] = []
    transport = doc.transport()
    inner = transport.transmit

    def record(apdu: bytes) -> bytes:
        sent.append(apdu)
        return inner(apdu)

    transport.transmit = record  # type: ignore[method-assign]
    ChipSession(transport).open(MrzKey(doc.mrz_information))
    assert sent[1][:4] == bytes.fromhex("00B09C00")  # 6A82: BAC only
    assert sent[2] == bytes.fromhex("00A4040C07") + EMRTD_AID
    assert sent[3][:2] == bytes.fromhex("0084")  # GET CHALLENGE


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (tlv.encode(0x31, b"\x04\x01\x00"), "malformed"),  # an OCTET STRING, not a SecurityInfo
        (bytes.fromhex("31822328") + bytes(16), "limit"),  # declares 9000 bytes (> 8 KiB)
    ],
)
def test_malformed_card_access_is_a_reported_fallback(content, words):
    _, _, result = read_specimen(config=ChipConfig(card_access=content))
    access = result.access
    assert access.protocol is AccessProtocol.BAC
    assert access.card_access_present is True
    assert access.pace_offered == ()
    assert access.fallback is not None
    assert words in access.fallback and "BAC was used" in access.fallback


def test_can_key_needs_pace():
    doc = specimen()
    session = ChipSession(doc.transport())  # a BAC-only chip
    with pytest.raises(LocalProtocolError, match="only with PACE") as info:
        session.open(CanKey("123456"))
    assert "offers no PACE" in str(info.value)
    assert "GET CHALLENGE" not in session.stats.by_command  # nothing was tried
    bac_only = ReadOptions(access_policy=AccessPolicy(bac_only=True))
    session = ChipSession(doc.transport(config=ChipConfig(card_access=CARD_ACCESS_PACE)),
                          options=bac_only)  # fmt: skip
    with pytest.raises(LocalProtocolError, match="BAC only"):
        session.open(CanKey("123456"))
    assert session.stats.by_command.keys() <= {"READ BINARY"}


def test_choice_without_pace_offer_has_no_fallback():
    control, result = choose_access_control(MrzKey(MRZ), CardAccessOffer(present=False))
    assert control.protocol is AccessProtocol.BAC
    assert result == AccessResult(AccessProtocol.BAC, False, (), None)


def test_wrong_mrz_on_a_chip_offering_pace_is_a_pace_error_with_retries():
    doc = specimen()
    session = ChipSession(doc.transport(config=ChipConfig(card_access=CARD_ACCESS_PACE)))
    with pytest.raises(AccessControlError) as info:
        session.open(MrzKey.from_fields("L898902C", "740813", "340415"))
    assert info.value.step == "GENERAL AUTHENTICATE 4 (mutual authentication)"
    assert info.value.protocol == "PACE"
    assert info.value.sw == 0x63C2
    assert "2 retries left" in str(info.value)
    assert "EXTERNAL AUTHENTICATE" not in str(info.value)  # a wrong password never falls back


def test_wrong_mrz_with_bac_only_on_a_chip_offering_pace_says_so():
    doc = specimen()
    session = ChipSession(
        doc.transport(config=ChipConfig(card_access=CARD_ACCESS_PACE)),
        options=ReadOptions(access_policy=AccessPolicy(bac_only=True)),
    )
    with pytest.raises(AccessControlError) as info:
        session.open(MrzKey.from_fields("L898902C", "740813", "340415"))
    assert info.value.step == "EXTERNAL AUTHENTICATE"
    assert info.value.protocol == "BAC"
    assert info.value.sw == 0x6300
    assert "offers PACE" in str(info.value) and "BAC only" in str(info.value)
    assert str(info.value).count("BAC failed at") == 1


def test_extended_refused_is_learnt_at_the_plain_card_access_read():
    # Without EF.ATR/INFO the EF.CardAccess read is the first extended APDU: its plain 6700
    # teaches short reads before secure messaging starts, so nothing needs re-opening.
    doc = specimen()
    session = ChipSession(
        doc.transport(faults=Faults(reject_extended=True)),
        options=ReadOptions(read_atr_info=False, chip_authentication=False),
    )
    result = session.read(MrzKey(doc.mrz_information))
    assert result.files == doc.dump()
    assert result.recoveries == 0
    reads = sum(-(-len(data) // 231) for data in doc.files.values())
    # extended EF.CardAccess (6700), short EF.CardAccess (6A82), SELECT, BAC, the reads
    assert result.stats.apdus == 2 + 1 + 2 + reads


# -- one bad file never loses the rest -------------------------------------------------------


def bad_files() -> dict[LdsFile, bytes]:
    listed = [LdsFile.DG1, LdsFile.DG2, LdsFile.DG3, LdsFile.DG5, LdsFile.DG7, LdsFile.DG11]
    return {
        LdsFile.EF_COM: com.encode(listed),
        LdsFile.EF_SOD: bytes.fromhex("7703010203"),  # not a SOD: EF.COM's list is read
        LdsFile.DG1: tlv.encode(0x61, tlv.encode(0x5F1F, b"P<UTO" + b"<" * 83)),
        LdsFile.DG2: tlv.encode(0x75, os.urandom(5000)),
        LdsFile.DG3: tlv.encode(0x63, b"fingerprints"),
        LdsFile.DG5: bytes.fromhex("6583050000") + bytes(40),  # declares 327,685 bytes
        LdsFile.DG7: bytes.fromhex("678501020304050607") + bytes(20),  # 5-byte length field
        # DG11 is listed in EF.COM but not on the chip
    }


@pytest.mark.parametrize("extended", [True, False])
def test_one_bad_data_group_does_not_lose_the_rest(extended):
    files = bad_files()
    chip = VirtualChip(files, MRZ, config=ChipConfig(extended_length=extended))
    session = ChipSession(VirtualTransport(chip), options=ReadOptions(read_eac_protected=True))
    result = session.read(MrzKey(MRZ))
    assert result.document.get(LdsFile.DG1) == files[LdsFile.DG1]
    assert result.document.get(LdsFile.DG2) == files[LdsFile.DG2]
    assert set(result.not_read) == {LdsFile.DG3, LdsFile.DG5, LdsFile.DG7, LdsFile.DG11}
    assert result.not_read[LdsFile.DG3] == "access denied (6982)"
    assert result.not_read[LdsFile.DG11] == "not on the chip (6A82)"
    assert "limit" in result.not_read[LdsFile.DG5]
    assert "DG7" in result.not_read[LdsFile.DG7]
    assert list(result.not_read_labelled) == ["DG3", "DG5", "DG7", "DG11"]
    assert result.recoveries == 0


def test_eac_protected_groups_are_skipped_with_a_reason():
    chip = VirtualChip(bad_files(), MRZ)
    result = ChipSession(VirtualTransport(chip)).read(MrzKey(MRZ))
    assert result.not_read[LdsFile.DG3] == "needs Extended Access Control (not performed)"
    assert "READ BINARY DG3" not in str(result.stats.by_command)


def test_file_bound_is_the_smaller_of_option_and_file_kind():
    files = bad_files()
    files[LdsFile.DG1] = tlv.encode(0x61, bytes(200))  # > 128, the bound of DG1
    chip = VirtualChip(files, MRZ)
    options = ReadOptions(max_file_size=4096)  # below DG2's 5 KB
    result = ChipSession(VirtualTransport(chip), options=options).read(MrzKey(MRZ))
    assert "128-byte limit" in result.not_read[LdsFile.DG1]
    assert "4096-byte limit" in result.not_read[LdsFile.DG2]


def test_file_ending_inside_its_header_is_a_parse_error():
    files = bad_files()
    files[LdsFile.DG2] = bytes.fromhex("7582")  # the length field never arrives
    chip = VirtualChip(files, MRZ, config=ChipConfig(extended_length=False))
    result = ChipSession(VirtualTransport(chip)).read(MrzKey(MRZ))
    assert "inside its TLV header" in result.not_read[LdsFile.DG2]
    assert result.document.get(LdsFile.DG1) == files[LdsFile.DG1]


def test_a_malformed_sod_or_com_is_reported_and_the_rest_read():
    files = bad_files()
    chip = VirtualChip(files, MRZ, faults=Faults(truncate={LdsFile.EF_SOD: 3}))
    result = ChipSession(VirtualTransport(chip)).read(MrzKey(MRZ))
    assert LdsFile.EF_SOD not in result.document
    assert LdsFile.EF_SOD in result.malformed
    assert "unreadable" in result.not_read[LdsFile.EF_SOD]
    assert result.document.get(LdsFile.DG1) == files[LdsFile.DG1]  # what EF.COM lists is read
    doc = specimen()
    files = dict(doc.files)
    files[LdsFile.EF_COM] = b"\x60\x03\x01\x02\x03"  # EF.COM content malformed (unsigned)
    chip = VirtualChip(files, doc.mrz_information)
    result = ChipSession(VirtualTransport(chip)).read(MrzKey(doc.mrz_information))
    assert result.document.get(LdsFile.DG2) == files[LdsFile.DG2]  # what EF.SOD lists is read
    assert result.document.parse_error(LdsFile.EF_COM) is not None


def test_a_missing_com_is_recorded_and_the_mandatory_groups_read():
    # EF.COM absent, EF.SOD not a SOD: no list of data groups, so DG1 and DG2 are read
    files = bad_files()
    del files[LdsFile.EF_COM]
    result = ChipSession(VirtualTransport(VirtualChip(files, MRZ))).read(MrzKey(MRZ))
    assert result.not_read[LdsFile.EF_COM] == "not on the chip (6A82)"
    assert LdsFile.EF_COM not in result.malformed
    assert result.document.get(LdsFile.DG1) == files[LdsFile.DG1]
    assert result.document.get(LdsFile.DG2) == files[LdsFile.DG2]
    assert LdsFile.DG3 not in result.document and LdsFile.DG3 not in result.not_read  # unlisted


def test_link_failures_still_raise():
    doc = specimen()
    # protected commands: EF.COM 1, EF.SOD 2, DG1 3, DG2 4
    with pytest.raises(SecureMessagingError, match="MAC"):
        ChipSession(doc.transport(faults=Faults(corrupt_mac_after=4))).read(
            MrzKey(doc.mrz_information)
        )
    with pytest.raises(CardRemovedError):
        ChipSession(
            doc.transport(config=ChipConfig(extended_length=False), faults=Faults(remove_after=20))
        ).read(MrzKey(doc.mrz_information))


# -- the file reader alone, APDU for APDU -------------------------------------------------------


def test_file_reader_reads_by_sfi_then_offset_and_reports_progress():
    content = tlv.encode(0x31, bytes(296))  # 31 82 01 28 + 296 bytes = 300
    transport = ScriptedTransport(
        [
            ("00B09C0000", content[:256].hex() + "9000"),
            ("00B001002C", content[256:].hex() + "9000"),
        ]
    )
    progress: list[tuple[LdsFile, int, int | None]] = []
    reader = FileReader(
        Channel(transport), progress=lambda f, done, total: progress.append((f, done, total))
    )
    assert reader.read_file(LdsFile.EF_CARD_ACCESS) == content
    assert transport.done
    card_access = LdsFile.EF_CARD_ACCESS
    assert progress == [(card_access, 0, None), (card_access, 256, 300), (card_access, 300, 300)]


def test_file_reader_without_recover_hook_raises_a_dropped_session():
    doc = specimen()
    session = ChipSession(
        doc.transport(faults=Faults(plain_error_on_read=3))
    )  # 3rd READ BINARY: EF.COM
    session.open(MrzKey(doc.mrz_information))
    session.file_reader.recover = None
    with pytest.raises(SecureMessagingError) as info:
        session.read_file(LdsFile.EF_COM)
    assert info.value.sw == 0x6988
