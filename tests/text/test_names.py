"""Names (products, towns, the brand) found in a company's texts, left out of its themes and their names."""

from __future__ import annotations

import numpy as np

from cxm.text.crosslingual import fit_grouped
from cxm.text.names import name_terms
from cxm.text.topics import lemmatised

PRODUCTS = ["Lumo Purify air purifier", "Lumo Air 3 headphones", "Lumo K17 kettle", "Lumo Halo desk lamp"]
TOWNS = ["Leeds", "London", "Cork"]


def test_capitalised_words_and_the_words_that_go_on_them_are_names() -> None:
    said = ["The {} broke after a week. Delivery to {} was late.", "My {} broke. The shop in {} was closed."]
    texts = [(s.format(product, town), "en") for product in PRODUCTS for town in TOWNS for s in said]
    found = name_terms(texts)
    assert {"purify", "air", "purifier", "headphone", "kettle", "halo", "desk", "lamp", "leeds", "lumo"} <= found
    assert {"broke", "week", "delivery", "late"}.isdisjoint(found)  # "broke" follows every product: a word


def test_a_sentence_s_first_word_a_shouted_text_and_a_rare_word_are_not_names() -> None:
    texts = [("Delivery was late. Courier never called.", "en")] * 6 + [("WHERE IS MY PARCEL", "en")] * 6
    assert name_terms(texts) == frozenset()
    assert name_terms([("The parcel went to Leeds.", "en")] * 4) == frozenset()  # four uses tell nothing
    assert "leeds" in name_terms([("The parcel went to Leeds.", "en")] * 5)


def test_a_theme_whose_texts_all_mention_one_product_is_named_by_what_they_say_about_it() -> None:
    warranty = [
        "Is the warranty on my Lumo Purify air purifier still valid? The filter is {}.",
        "The warranty card for the Lumo Purify air purifier is missing, filter {}.",
        "Does the warranty cover the Lumo Purify air purifier filter {}?",
    ]
    late = ["The courier came {} days late to {}.", "Late parcel again, the courier waited {} days in {}."]
    written = [warranty[i % 3].format(["torn", "broken", "dirty"][i % 3]) for i in range(30)]
    written += [late[i % 2].format(i % 5 + 2, TOWNS[i % 3]) for i in range(30)]
    documents = [lemmatised(t, "en") for t in written]
    groups = ["response:en"] * len(documents)
    plain = fit_grouped(documents, groups, 2, spelled={}, embed=None).names()
    named = fit_grouped(documents, groups, 2, spelled={}, embed=None, names=name_terms((t, "en") for t in written))
    products = {"purify", "air", "purifier", "leeds", "london", "cork"}
    assert any(products & set(name.split(" / ")) for name in plain)  # fitted over names, named by them
    assert all(not products & set(name.split(" / ")) for name in named.names())
    assert any("warranty" in name for name in named.names()) and any("courier" in name for name in named.names())
    assert not products & set(named.terms) and np.all(named.components >= 0)


def test_languages_that_capitalise_every_noun_give_no_names() -> None:
    texts = [("Die Lieferung kam zu spät. Der Kurier hat nicht angerufen.", "de")] * 8
    assert name_terms(texts) == frozenset()  # every German noun is capitalised: capitals tell nothing there
