"""Constants of the Dalvik executable format that the DEX reader needs (sizes, opcodes, widths)."""

from __future__ import annotations

HEADER_SIZE = 0x70
ENDIAN_CONSTANT = 0x12345678
NO_INDEX = 0xFFFFFFFF

# Byte size of one entry of each id table.
STRING_ID_SIZE = 4
TYPE_ID_SIZE = 4
PROTO_ID_SIZE = 12
FIELD_ID_SIZE = 8
METHOD_ID_SIZE = 8
CLASS_DEF_SIZE = 32
CODE_ITEM_HEADER_SIZE = 16

# Opcodes whose operand at byte offset 2 is an index the scanner cares about.
INVOKE_OPCODES = frozenset(range(0x6E, 0x73)) | frozenset(range(0x74, 0x79))  # invoke-kind, invoke-kind/range
IGET_OPCODES = frozenset(range(0x52, 0x59))  # iget .. iget-short (22c, field index at +2)
SGET_OPCODES = frozenset(range(0x60, 0x67))  # sget .. sget-short (21c, field index at +2)
FIELD_READ_OPCODES = IGET_OPCODES | SGET_OPCODES
CONST_STRING = 0x1A  # 21c, ushort string index at +2
CONST_STRING_JUMBO = 0x1B  # 31c, uint string index at +2

# Pseudo-instruction idents that follow a nop opcode byte (the high byte of the 16-bit unit).
PACKED_SWITCH_PAYLOAD = 0x01
SPARSE_SWITCH_PAYLOAD = 0x02
FILL_ARRAY_DATA_PAYLOAD = 0x03


def _widths() -> bytes:
    """Instruction width in 16-bit code units for every opcode (Dalvik bytecode formats table)."""
    width = [1] * 256
    spans = [
        (0x02, 0x02, 2), (0x03, 0x03, 3), (0x05, 0x05, 2), (0x06, 0x06, 3), (0x08, 0x08, 2), (0x09, 0x09, 3),
        (0x13, 0x13, 2), (0x14, 0x14, 3), (0x15, 0x16, 2), (0x17, 0x17, 3), (0x18, 0x18, 5), (0x19, 0x1A, 2),
        (0x1B, 0x1B, 3), (0x1C, 0x1C, 2), (0x1F, 0x20, 2), (0x22, 0x23, 2), (0x24, 0x26, 3), (0x29, 0x29, 2),
        (0x2A, 0x2C, 3), (0x2D, 0x3D, 2), (0x44, 0x6D, 2), (0x6E, 0x72, 3), (0x74, 0x78, 3), (0x90, 0xAF, 2),
        (0xD0, 0xE2, 2), (0xFA, 0xFB, 4), (0xFC, 0xFD, 3), (0xFE, 0xFF, 2),
    ]
    for first, last, units in spans:
        for op in range(first, last + 1):
            width[op] = units
    return bytes(width)


# Indexed by opcode; 1-unit formats (10x, 11x, 12x, 11n, 10t) keep the default.
INSN_WIDTH: bytes = _widths()
