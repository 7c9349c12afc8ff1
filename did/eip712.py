"""EIP-712 typed data of a linked-data document as didkit/ssi builds it for
EthereumEip712Signature2021 (W3C CCG "Ethereum EIP712 Signature 2021", types generated from the
document; ssi-ldp 0.2.0, the version inside didkit 0.3.3).

What ssi does, reproduced here byte for byte (checked against didkit-made proofs):

- the message is the document with ``proof`` set to the proof object minus ``proofValue``;
- types are generated (primary type ``Document``): properties in JCS order (UTF-16 code units);
  bool -> ``bool``, integer -> ``uint256``, string -> ``string``, arrays of one primitive kind ->
  ``T[]``, objects -> a struct named after the property with its first letter upper-cased
  (a later struct of the same name replaces an earlier one); null, floats, empty arrays, arrays
  of objects and mixed arrays cannot be typed;
- the domain type is ``EIP712Domain(string name)`` but the domain value is EMPTY, so its
  ``name`` member encodes as 32 zero bytes (ssi encodes missing struct members as zero);
- digest = keccak256(0x19 0x01 || hashStruct(domain) || hashStruct(message)); the signature is
  r || s || v with v = 27/28, hex with 0x.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eth_utils.crypto import keccak

from did.errors import HolderSigningError

PRIMARY_TYPE = "Document"
DOMAIN_TYPE = [{"name": "name", "type": "string"}]
_ZERO32 = b"\0" * 32
_I64 = (-(2**63), 2**63 - 1)

Types = dict[str, list[dict[str, str]]]


def _jcs_key(name: str) -> bytes:
    return name.encode("utf-16-be")


def _check_value(value: Any, path: str) -> None:
    if value is None:
        raise HolderSigningError(f"EIP-712: null value at {path} cannot be typed")
    if isinstance(value, float):
        raise HolderSigningError(f"EIP-712: number {value!r} at {path} is not an integer")
    if isinstance(value, int) and not isinstance(value, bool) and not _I64[0] <= value <= _I64[1]:
        raise HolderSigningError(f"EIP-712: integer at {path} is outside 64-bit range")
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_value(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_value(item, f"{path}.{key}")


def _primitive(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "uint256"
    if isinstance(value, str):
        return "string"
    return None


def generate_types(document: Mapping[str, Any], primary_type: str = PRIMARY_TYPE) -> Types:
    """EIP-712 struct types of ``document`` (without EIP712Domain), as ssi generates them."""
    output: Types = {}
    members: list[dict[str, str]] = []
    for name in sorted(document, key=_jcs_key):
        value = document[name]
        kind = _primitive(value)
        if kind is not None:
            members.append({"name": name, "type": kind})
        elif isinstance(value, list):
            if not value:
                raise HolderSigningError(f"EIP-712: empty array under property {name!r} cannot be typed")
            first = _primitive(value[0])
            if first is None:
                raise HolderSigningError(
                    f"EIP-712: array under property {name!r} holds objects or arrays; generated types "
                    "allow only arrays of booleans, numbers or strings"
                )
            if any(_primitive(item) != first for item in value[1:]):
                raise HolderSigningError(
                    f"EIP-712: array under property {name!r} mixes types (expected all {first})"
                )
            members.append({"name": name, "type": f"{first}[]"})
        elif isinstance(value, dict):
            nested = generate_types(value, primary_type)
            struct = nested.pop(primary_type)
            struct_name = name[:1].upper() + name[1:]
            members.append({"name": name, "type": struct_name})
            output[struct_name] = struct
            output.update(nested)
        else:
            raise HolderSigningError(f"EIP-712: value under property {name!r} cannot be typed")
    output[primary_type] = members
    return output


def _base_struct(type_name: str) -> str:
    while type_name.endswith("]"):
        type_name = type_name[: type_name.rindex("[")]
    return type_name


def _is_struct(type_name: str, types: Types) -> bool:
    return type_name == "EIP712Domain" or type_name in types


def _struct(types: Types, name: str) -> list[dict[str, str]]:
    if name == "EIP712Domain":
        return types.get("EIP712Domain", DOMAIN_TYPE)
    if name not in types:
        raise HolderSigningError(f"EIP-712: missing referenced type {name!r}")
    return types[name]


def encode_type(types: Types, name: str) -> str:
    referenced: set[str] = set()

    def gather(struct_name: str) -> None:
        for member in _struct(types, struct_name):
            base = _base_struct(member["type"])
            if _is_struct(base, types) and base not in referenced:
                referenced.add(base)
                gather(base)

    gather(name)

    def single(struct_name: str) -> str:
        fields = ",".join(f"{m['type']} {m['name']}" for m in _struct(types, struct_name))
        return f"{struct_name}({fields})"

    return single(name) + "".join(single(n) for n in sorted(referenced))


def _encode_field(types: Types, type_name: str, value: Any) -> bytes:
    encoded = _encode_data(types, type_name, value)
    if type_name.endswith("]") or _is_struct(type_name, types):
        return keccak(encoded)
    return encoded


def _encode_data(types: Types, type_name: str, value: Any) -> bytes:
    if type_name.endswith("[]"):
        if not isinstance(value, list):
            raise HolderSigningError(f"EIP-712: expected an array for type {type_name}")
        return b"".join(_encode_field(types, type_name[:-2], item) for item in value)
    if _is_struct(type_name, types):
        if not isinstance(value, dict):
            raise HolderSigningError(f"EIP-712: expected an object for type {type_name}")
        out = keccak(text=encode_type(types, type_name))
        remaining = set(value)
        for member in _struct(types, type_name):
            name = member["name"]
            out += _encode_field(types, member["type"], value[name]) if name in value else _ZERO32
            remaining.discard(name)
        if remaining:
            raise HolderSigningError(
                f"EIP-712: untyped properties {sorted(remaining)} in {type_name} (didkit refuses these too)"
            )
        return out
    if type_name == "string":
        if not isinstance(value, str):
            raise HolderSigningError("EIP-712: expected a string")
        return keccak(text=value)
    if type_name == "bool":
        if not isinstance(value, bool):
            raise HolderSigningError("EIP-712: expected a boolean")
        return (1 if value else 0).to_bytes(32, "big")
    if type_name == "uint256":
        if isinstance(value, bool) or not isinstance(value, int):
            raise HolderSigningError("EIP-712: expected an integer")
        # ssi holds JSON integers as i64 and left-pads their 8 big-endian bytes with zeros.
        return (value & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big").rjust(32, b"\0")
    raise HolderSigningError(f"EIP-712: type {type_name!r} does not occur in generated types")


def typed_data(document: Mapping[str, Any], proof: Mapping[str, Any]) -> dict[str, Any]:
    """The full typed data (types, primaryType, domain, message) ssi signs for ``proof``."""
    message = {key: value for key, value in document.items() if key != "proof"}
    message["proof"] = {key: value for key, value in proof.items() if key != "proofValue"}
    _check_value(message, "$")
    types = generate_types(message)
    types["EIP712Domain"] = list(DOMAIN_TYPE)
    return {"types": types, "primaryType": PRIMARY_TYPE, "domain": {}, "message": message}


def typed_data_digest(data: Mapping[str, Any]) -> bytes:
    """keccak256(0x1901 || domain separator || hashStruct(message)) as ssi computes it."""
    types: Types = data["types"]
    domain_separator = keccak(_encode_data(types, "EIP712Domain", data["domain"]))
    message_hash = keccak(_encode_data(types, data["primaryType"], data["message"]))
    return keccak(b"\x19\x01" + domain_separator + message_hash)
