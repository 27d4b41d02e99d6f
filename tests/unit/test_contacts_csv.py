import pytest

from provisioning.contacts_csv import contacts_csv, merged, parse_contacts_csv
from provisioning.document import ContactDoc, DocumentInvalid


def test_rows_of_one_name_make_one_contact_in_either_separator():
    text = (
        "\ufeffName;Number1;Number2\nMum;06 11 11 11 11;\nMum;01 45 45 45 45\nBoss;+33612345678\n"
    )
    assert parse_contacts_csv(text) == [
        {"name": "Mum", "numbers": ["06 11 11 11 11", "01 45 45 45 45"]},
        {"name": "Boss", "numbers": ["+33612345678"]},
    ]
    assert parse_contacts_csv("name,number\nBoss,0612345678\n\n") == [
        {"name": "Boss", "numbers": ["0612345678"]}
    ]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("who,number\nA,1\n", "line 1"),
        ("name,number\n,0612345678\n", "line 2"),
        ("name,number\nA,\n", "line 2"),
        ("name,number\n" + "".join(f"A,061234567{i}\n" for i in range(6)), "line 7"),
    ],
)
def test_bad_files_name_their_lines(text, where):
    with pytest.raises(DocumentInvalid) as refused:
        parse_contacts_csv(text)
    assert refused.value.problems[0].path == where


def test_an_import_replaces_contacts_of_the_same_name_only():
    current = [{"name": "Mum", "numbers": ["1"]}, {"name": "Boss", "numbers": ["2"]}]
    assert merged(current, [{"name": "mum", "numbers": ["3"]}]) == [
        {"name": "Boss", "numbers": ["2"]},
        {"name": "mum", "numbers": ["3"]},
    ]


def test_export_reads_back_and_runs_no_formula():
    text = contacts_csv([ContactDoc(name="=cmd", numbers=["+33612345678", "+33145454545"])])
    assert text.splitlines()[1] == "'=cmd,+33612345678,+33145454545"
    assert parse_contacts_csv(text) == [
        {"name": "'=cmd", "numbers": ["+33612345678", "+33145454545"]}
    ]
