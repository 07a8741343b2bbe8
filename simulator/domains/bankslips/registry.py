"""A deterministic fake beneficiary registry: the same slip always names the same beneficiary
(a company with a CNPJ, or for some bank slips a person with a CPF), with valid check digits.

Validate bank slip asks the provider "to whom the client is paying"; the sandbox derives the
answer from a hash of the bar code, so it needs no data and is identical across runs.
Bank names come from the bundled ISPB list (``simulator/data/ispb.csv``) when present.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
from dataclasses import dataclass
from importlib import resources

from pismo_sandbox.domains.bankslips.boleto import DEALERSHIP, Slip

CPF, CNPJ = "CPF", "CNPJ"

_TRADES = (
    "Padaria",
    "Mercado",
    "Construtora",
    "Comercial",
    "Farmacia",
    "Papelaria",
    "Auto Pecas",
    "Escola",
    "Clinica",
    "Transportadora",
    "Livraria",
    "Academia",
)
_NAMES = (
    "Estrela",
    "Horizonte",
    "Aurora",
    "Bandeirantes",
    "Ipiranga",
    "Sol Nascente",
    "Paulista",
    "Atlantico",
    "Vale Verde",
    "Primavera",
    "Cruzeiro",
    "Tiete",
)
_SUFFIXES = ("Ltda", "S.A.", "ME", "EIRELI")
_FIRST = (
    "Ana",
    "Bruno",
    "Carla",
    "Diego",
    "Eduarda",
    "Felipe",
    "Gabriela",
    "Henrique",
    "Isabela",
    "Joao",
    "Larissa",
    "Marcos",
)
_LAST = (
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Rodrigues",
    "Ferreira",
    "Alves",
    "Pereira",
    "Lima",
    "Gomes",
    "Costa",
    "Ribeiro",
)
# Dealership slips: the issuer is a company of the FEBRABAN segment (bar-code position 2).
_SEGMENT_ISSUERS = {
    "1": "Prefeitura Municipal de {name}",
    "2": "Companhia de Saneamento {name}",
    "3": "Companhia Energetica {name}",
    "4": "{name} Telecomunicacoes S.A.",
    "5": "Secretaria da Fazenda {name}",
    "6": "{name} Carnes e Cobrancas Ltda",
    "7": "Departamento de Transito {name}",
    "9": "{name} Servicos Bancarios S.A.",
}
SEGMENT_NAMES = {
    "1": "prefeituras",
    "2": "saneamento",
    "3": "energia eletrica e gas",
    "4": "telecomunicacoes",
    "5": "orgaos governamentais",
    "6": "carnes e assemelhados",
    "7": "multas de transito",
    "9": "uso exclusivo do banco",
}


@dataclass(frozen=True)
class Beneficiary:
    name: str
    document: str
    document_type: str  # CPF or CNPJ


def _digits(seed: bytes, count: int) -> str:
    return "".join(str(b % 10) for b in seed[:count])


def _mod11_dv(digits: str, weights: list[int]) -> str:
    remainder = sum(int(d) * w for d, w in zip(digits, weights)) % 11
    return "0" if remainder < 2 else str(11 - remainder)


def cpf_check_digits(base9: str) -> str:
    first = _mod11_dv(base9, list(range(10, 1, -1)))
    return first + _mod11_dv(base9 + first, list(range(11, 1, -1)))


def cnpj_check_digits(base12: str) -> str:
    weights = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    first = _mod11_dv(base12, weights)
    return first + _mod11_dv(base12 + first, [6] + weights)


def is_valid_cpf(document: str) -> bool:
    return (
        len(document) == 11
        and document.isdigit()
        and len(set(document)) > 1
        and cpf_check_digits(document[:9]) == document[9:]
    )


def is_valid_cnpj(document: str) -> bool:
    return (
        len(document) == 14
        and document.isdigit()
        and len(set(document[:8])) > 1
        and cnpj_check_digits(document[:12]) == document[12:]
    )


def _pick(options: tuple[str, ...], byte: int) -> str:
    return options[byte % len(options)]


@functools.lru_cache(maxsize=4096)
def beneficiary(slip: Slip) -> Beneficiary:
    """The beneficiary the registry holds for this slip (a pure function of the bar code)."""
    seed = hashlib.sha256(f"pismo-sandbox/beneficiary/{slip.bar_code}".encode()).digest()
    person = slip.kind != DEALERSHIP and seed[0] % 5 == 0  # about one bank slip in five
    if person:
        base = "1" + _digits(seed[1:], 8)  # a leading 1 keeps the CPF from being all one digit
        return Beneficiary(
            f"{_pick(_FIRST, seed[10])} {_pick(_LAST, seed[11])} {_pick(_LAST, seed[12])}",
            base + cpf_check_digits(base),
            CPF,
        )
    base = "1" + _digits(seed[1:], 7) + "0001"  # root (8) + branch 0001 (the head office)
    town = _pick(_NAMES, seed[10])
    if slip.kind == DEALERSHIP:
        name = _SEGMENT_ISSUERS.get(slip.segment or "", "{name} S.A.").format(name=town)
    else:
        name = f"{_pick(_TRADES, seed[11])} {town} {_pick(_SUFFIXES, seed[12])}"
    return Beneficiary(name, base + cnpj_check_digits(base), CNPJ)


@functools.lru_cache(maxsize=1)
def _banks() -> dict[str, str]:
    try:
        text = (resources.files("pismo_sandbox") / "data" / "ispb.csv").read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return {}
    names: dict[str, str] = {}
    for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff"))):
        compe = (row.get("COMPE") or "").strip()
        if compe.isdigit() and compe not in names:
            names[compe.zfill(3)] = (row.get("ShortName") or "").strip()
    return names


def bank_name(compe: str) -> str | None:
    """The short name of the bank with this COMPE code, if the bundled list knows it."""
    return _banks().get(compe) or None
