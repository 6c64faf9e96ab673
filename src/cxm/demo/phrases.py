"""The demo company's vocabulary: names, places, products and short customer texts in five languages."""

from __future__ import annotations

from decimal import Decimal

LANGUAGES = ("cs", "pl", "hr", "ro", "en")
LANGUAGE_WEIGHTS = (30, 25, 12, 15, 18)
COUNTRIES = {"cs": ("CZ",), "pl": ("PL",), "hr": ("HR",), "ro": ("RO",), "en": ("GB", "IE")}
CURRENCY = {"CZ": "CZK", "PL": "PLN", "HR": "EUR", "RO": "RON", "GB": "GBP", "IE": "EUR"}
EUR_RATE = {"CZK": 25.0, "PLN": 4.3, "EUR": 1.0, "RON": 5.0, "GBP": 0.85}

FIRST_NAMES = {
    "cs": (
        ("Jan", "Petr", "Jiří", "Tomáš", "Martin", "Pavel", "Jakub", "Lukáš", "Ondřej", "Michal", "David", "Vojtěch"),
        ("Jana", "Eva", "Hana", "Lucie", "Petra", "Kateřina", "Tereza", "Veronika", "Zuzana", "Markéta", "Klára"),
    ),
    "pl": (
        ("Piotr", "Krzysztof", "Andrzej", "Tomasz", "Paweł", "Michał", "Marcin", "Jakub", "Łukasz", "Mateusz"),
        ("Anna", "Maria", "Katarzyna", "Małgorzata", "Agnieszka", "Joanna", "Magdalena", "Ewa", "Zofia", "Monika"),
    ),
    "hr": (
        ("Ivan", "Marko", "Josip", "Luka", "Tomislav", "Ante", "Stjepan", "Matej", "Filip", "Nikola", "Krešimir"),
        ("Ana", "Marija", "Ivana", "Petra", "Maja", "Lucija", "Katarina", "Martina", "Nikolina", "Mia", "Željka"),
    ),
    "ro": (
        ("Andrei", "Alexandru", "Mihai", "Ion", "Ștefan", "Gabriel", "Florin", "Cristian", "Bogdan", "Radu", "Vlad"),
        ("Maria", "Elena", "Ioana", "Andreea", "Ana", "Mihaela", "Cristina", "Alexandra", "Raluca", "Irina"),
    ),
    "en": (
        ("James", "Oliver", "Jack", "Harry", "George", "Thomas", "William", "Daniel", "Conor", "Seán", "Liam"),
        ("Olivia", "Amelia", "Emily", "Sophie", "Grace", "Charlotte", "Chloe", "Aoife", "Siobhán", "Emma", "Lucy"),
    ),
}

# (male form, female form): Czech and Polish surnames change with gender.
SURNAMES = {
    "cs": (
        ("Novák", "Nováková"),
        ("Svoboda", "Svobodová"),
        ("Novotný", "Novotná"),
        ("Dvořák", "Dvořáková"),
        ("Černý", "Černá"),
        ("Procházka", "Procházková"),
        ("Kučera", "Kučerová"),
        ("Veselý", "Veselá"),
        ("Horák", "Horáková"),
        ("Němec", "Němcová"),
        ("Pokorný", "Pokorná"),
        ("Růžička", "Růžičková"),
        ("Král", "Králová"),
    ),
    "pl": (
        ("Nowak", "Nowak"),
        ("Kowalski", "Kowalska"),
        ("Wiśniewski", "Wiśniewska"),
        ("Wójcik", "Wójcik"),
        ("Kowalczyk", "Kowalczyk"),
        ("Kamiński", "Kamińska"),
        ("Lewandowski", "Lewandowska"),
        ("Zieliński", "Zielińska"),
        ("Szymański", "Szymańska"),
        ("Woźniak", "Woźniak"),
        ("Dąbrowski", "Dąbrowska"),
        ("Mazur", "Mazur"),
    ),
    "hr": tuple(
        (name, name)
        for name in (
            "Horvat",
            "Kovačević",
            "Babić",
            "Marić",
            "Jurić",
            "Novak",
            "Knežević",
            "Vuković",
            "Marković",
            "Matić",
            "Tomić",
            "Božić",
            "Šarić",
        )
    ),
    "ro": tuple(
        (name, name)
        for name in (
            "Popescu",
            "Ionescu",
            "Popa",
            "Dumitru",
            "Stan",
            "Stoica",
            "Gheorghe",
            "Rusu",
            "Munteanu",
            "Constantin",
            "Șerban",
            "Moldovan",
            "Ciobanu",
        )
    ),
    "en": tuple(
        (name, name)
        for name in (
            "Smith",
            "Jones",
            "Williams",
            "Taylor",
            "Brown",
            "Davies",
            "Wilson",
            "Murphy",
            "Kelly",
            "O'Brien",
            "Walsh",
            "Byrne",
            "O'Sullivan",
        )
    ),
}

COMPANY_FORMS = {
    "cs": (("Elektro", "Stavby", "Servis", "& syn"), "s.r.o."),
    "pl": (("Serwis", "Budownictwo", "Handel", "& Syn"), "sp. z o.o."),
    "hr": (("Trgovina", "Gradnja", "Servis", "& sinovi"), "d.o.o."),
    "ro": (("Construct", "Comerț", "Service", "& Fiii"), "S.R.L."),
    "en": (("Trading", "Builders", "Services", "& Sons"), "Ltd"),
}

CITIES = {
    "CZ": ("Praha", "Brno", "Ostrava", "Plzeň", "Olomouc"),
    "PL": ("Warszawa", "Kraków", "Wrocław", "Gdańsk", "Poznań"),
    "HR": ("Zagreb", "Split", "Rijeka", "Osijek"),
    "RO": ("București", "Cluj-Napoca", "Iași", "Timișoara", "Brașov"),
    "GB": ("London", "Manchester", "Birmingham", "Leeds"),
    "IE": ("Dublin", "Cork", "Galway"),
}

MAIL_DOMAINS = {
    "CZ": ("example.cz", "posta.example.cz", "example.com"),
    "PL": ("example.pl", "poczta.example.pl", "example.com"),
    "HR": ("example.hr", "example.com"),
    "RO": ("example.ro", "example.com"),
    "GB": ("example.co.uk", "example.com"),
    "IE": ("example.ie", "example.com"),
}

# Mobile prefixes after the country code; every generated number is checked with phonenumbers.
MOBILE = {
    "CZ": ("+420", ("60", "70", "72", "73", "77", "79"), 7),
    "PL": ("+48", ("50", "51", "53", "57", "60", "66", "69", "72", "73", "78", "79", "88"), 7),
    "HR": ("+385", ("91", "92", "95", "97", "98", "99"), 7),
    "RO": ("+40", ("72", "73", "74", "75", "76", "77", "78"), 7),
    "GB": ("+44", ("74", "75", "77", "78", "79"), 8),
    "IE": ("+353", ("83", "85", "86", "87", "89"), 7),
}

SOCIAL_NETWORKS = ("instagram", "facebook", "x")

PRODUCTS = (
    ("SKU-1001", "Lumo K17 kettle", 39),
    ("SKU-1002", "Lumo Brew 5 coffee maker", 129),
    ("SKU-1003", "Lumo Blend Pro", 89),
    ("SKU-1004", "Lumo Air 3 headphones", 149),
    ("SKU-1005", "Lumo Beam speaker", 69),
    ("SKU-1006", "Lumo Halo desk lamp", 45),
    ("SKU-1007", "Lumo V8 vacuum", 299),
    ("SKU-1008", "Lumo Mesh router", 119),
    ("SKU-1009", "Lumo View 27 monitor", 249),
    ("SKU-1010", "Lumo Sit chair", 179),
    ("SKU-1011", "Lumo Toast 2", 35),
    ("SKU-1012", "Lumo Fry XL", 109),
    ("SKU-1013", "Lumo Watch S", 199),
    ("SKU-1014", "Lumo Cable USB-C 2 m", 12),
    ("SKU-1015", "Lumo Power 20k", 49),
    ("SKU-1016", "Lumo Iron Steam", 59),
    ("SKU-1017", "Lumo Purify air purifier", 229),
    ("SKU-1018", "Lumo Cam indoor", 55),
    ("SKU-1019", "Lumo Pad 11 tablet", 349),
    ("SKU-1020", "Lumo Scale", 29),
)


def local_price(eur: int, currency: str) -> Decimal:
    """A shelf price in the local currency: whole crowns end in 9, others in .99."""
    amount = eur * EUR_RATE[currency]
    if currency == "CZK":
        return Decimal(max(9, round(amount / 10) * 10 - 1))
    return Decimal(max(1, round(amount))) - Decimal("0.01")


# Short customer texts by language and topic; {order}, {product} and {city} are filled in.
TEXTS = {
    "en": {
        "question": (
            "Is the {product} compatible with UK plugs & 230 V?",
            'Do you have the "{product}" in stock in {city}?',
            "What is the warranty on the {product}?",
        ),
        "delivery": (
            'Where is my order {order}? Tracking says "in transit" for 5 days.',
            "Can I change the delivery address for {order}?",
        ),
        "complaint": (
            "Order {order} arrived damaged & the box was open.",
            "The {product} stopped working after 2 weeks <very disappointed>.",
            "I was charged twice for {order}!",
        ),
        "praise": ("Great service, thank you!", "Quick delivery & friendly staff in {city}."),
        "return": ("Wrong size, returning it.", "Does not match the description."),
    },
    "cs": {
        "question": (
            "Je {product} skladem v prodejně {city}?",
            "Jaká je záruka na {product}?",
            'Funguje "{product}" i s nabíječkou < 2 A?',
        ),
        "delivery": ("Kde je moje objednávka {order}? Pořád nedorazila.", "Můžu změnit adresu doručení u {order}?"),
        "complaint": (
            "Objednávka {order} přišla poškozená & krabice byla otevřená.",
            "{product} přestal fungovat po dvou týdnech.",
            "Peníze za {order} mi byly strženy dvakrát!",
        ),
        "praise": ("Skvělá obsluha, děkuji!", "Rychlé doručení & milý personál v prodejně {city}."),
        "return": ("Nevyhovuje velikost, vracím.", "Neodpovídá popisu na webu."),
    },
    "pl": {
        "question": (
            "Czy {product} jest dostępny w sklepie {city}?",
            "Jaka jest gwarancja na {product}?",
            'Czy "{product}" działa z ładowarką < 2 A?',
        ),
        "delivery": (
            "Gdzie jest moje zamówienie {order}? Nadal nie dotarło.",
            "Czy mogę zmienić adres dostawy {order}?",
        ),
        "complaint": (
            "Zamówienie {order} przyszło uszkodzone & pudełko było otwarte.",
            "{product} przestał działać po dwóch tygodniach.",
            "Pobrano mi dwa razy opłatę za {order}!",
        ),
        "praise": ("Świetna obsługa, dziękuję!", "Szybka dostawa & miła obsługa w sklepie {city}."),
        "return": ("Zły rozmiar, zwracam.", "Produkt niezgodny z opisem."),
    },
    "hr": {
        "question": (
            "Ima li {product} na zalihi u trgovini {city}?",
            "Koliko traje jamstvo za {product}?",
            'Radi li "{product}" s punjačem < 2 A?',
        ),
        "delivery": (
            "Gdje je moja narudžba {order}? Još nije stigla.",
            "Mogu li promijeniti adresu dostave za {order}?",
        ),
        "complaint": (
            "Narudžba {order} stigla je oštećena & kutija je bila otvorena.",
            "{product} je prestao raditi nakon dva tjedna.",
            "Naplaćeno mi je dvaput za {order}!",
        ),
        "praise": ("Odlična usluga, hvala!", "Brza dostava & ljubazno osoblje u trgovini {city}."),
        "return": ("Pogrešna veličina, vraćam.", "Proizvod ne odgovara opisu."),
    },
    "ro": {
        "question": (
            "Aveți {product} pe stoc în magazinul din {city}?",
            "Ce garanție are {product}?",
            'Funcționează "{product}" cu un încărcător < 2 A?',
        ),
        "delivery": (
            "Unde este comanda mea {order}? Încă nu a ajuns.",
            "Pot schimba adresa de livrare pentru {order}?",
        ),
        "complaint": (
            "Comanda {order} a sosit deteriorată & cutia era deschisă.",
            "{product} s-a stricat după două săptămâni.",
            "Mi s-a debitat de două ori plata pentru {order}!",
        ),
        "praise": ("Servicii excelente, mulțumesc!", "Livrare rapidă & personal amabil în magazinul din {city}."),
        "return": ("Mărime greșită, îl returnez.", "Produsul nu corespunde descrierii."),
    },
}
