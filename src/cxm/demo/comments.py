"""Parts of the demo's survey comments, per language, sentiment and theme; {product} and {city} are filled in.

A comment is an optional opener, one or two theme sentences and an optional closer, so the same few parts give
thousands of different texts, as real free-text answers are.
"""

from __future__ import annotations

THEMES = ("price", "delivery", "staff", "quality", "website", "waiting")

OPENERS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "positive": ("Really happy overall.", "Great experience.", "Very pleased, honestly.", "Top marks from me."),
        "negative": ("Quite disappointed.", "Not good this time.", "Honestly frustrating.", "I expected more."),
        "mixed": ("Mostly fine.", "It was OK.", "Some good, some bad."),
    },
    "cs": {
        "positive": ("Celkově velká spokojenost.", "Skvělá zkušenost.", "Opravdu spokojenost.", "Jen chválím."),
        "negative": ("Docela zklamání.", "Tentokrát nic moc.", "Upřímně otrava.", "Čekal jsem víc."),
        "mixed": ("Většinou v pořádku.", "Bylo to OK.", "Něco dobré, něco horší."),
    },
    "pl": {
        "positive": ("Ogólnie bardzo zadowolony.", "Świetne doświadczenie.", "Naprawdę polecam.", "Wszystko super."),
        "negative": (
            "Spore rozczarowanie.",
            "Tym razem słabo.",
            "Szczerze mówiąc, frustrujące.",
            "Liczyłem na więcej.",
        ),
        "mixed": ("W większości w porządku.", "Było OK.", "Trochę dobrze, trochę gorzej."),
    },
    "hr": {
        "positive": ("Sve u svemu jako zadovoljan.", "Odlično iskustvo.", "Stvarno sam zadovoljna.", "Sve pohvale."),
        "negative": ("Prilično razočaranje.", "Ovaj put loše.", "Iskreno, frustrirajuće.", "Očekivao sam više."),
        "mixed": ("Uglavnom u redu.", "Bilo je OK.", "Nešto dobro, nešto lošije."),
    },
    "ro": {
        "positive": ("Foarte mulțumit în general.", "O experiență excelentă.", "Chiar sunt mulțumită.", "Doar laude."),
        "negative": ("Destul de dezamăgit.", "De data asta, slab.", "Sincer, frustrant.", "Mă așteptam la mai mult."),
        "mixed": ("În mare parte în regulă.", "A fost OK.", "Unele bune, altele mai puțin."),
    },
}

CLOSERS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "positive": ("Will order again.", "Keep it up!", "Already recommended you to friends."),
        "negative": ("Please fix this.", "I will think twice before ordering again.", "Not what I expect from Lumo."),
    },
    "cs": {
        "positive": ("Určitě objednám znovu.", "Jen tak dál!", "Už jsem vás doporučil známým."),
        "negative": ("Prosím, napravte to.", "Příště si to rozmyslím.", "Tohle od Luma nečekám."),
    },
    "pl": {
        "positive": ("Na pewno zamówię ponownie.", "Tak trzymać!", "Już poleciłem was znajomym."),
        "negative": ("Proszę to poprawić.", "Następnym razem się zastanowię.", "Nie tego oczekuję od Lumo."),
    },
    "hr": {
        "positive": ("Sigurno ću opet naručiti.", "Samo tako nastavite!", "Već sam vas preporučio prijateljima."),
        "negative": ("Molim vas, popravite to.", "Sljedeći put ću dobro razmisliti.", "To ne očekujem od Luma."),
    },
    "ro": {
        "positive": ("Sigur voi comanda din nou.", "Continuați așa!", "V-am recomandat deja prietenilor."),
        "negative": (
            "Vă rog să rezolvați asta.",
            "Data viitoare mă voi gândi de două ori.",
            "Nu mă aștept la asta de la Lumo.",
        ),
    },
}

SENTENCES: dict[str, dict[tuple[str, str], tuple[str, ...]]] = {
    "en": {
        ("price", "positive"): ("Fair prices for what you get.", "The {product} was cheaper than anywhere else."),
        ("price", "negative"): ("Prices keep going up.", "The {product} costs less at other shops."),
        ("delivery", "positive"): ("Delivery to {city} took only two days.", "The courier was on time and careful."),
        ("delivery", "negative"): (
            "The parcel came a week late.",
            "The courier never called and left it at a neighbour's.",
        ),
        ("staff", "positive"): (
            "The staff in {city} really knew the products.",
            "The agent on the phone was very kind.",
        ),
        ("staff", "negative"): ("Nobody could tell me what was going on.", "The agent was rude and hung up."),
        ("quality", "positive"): ("The {product} works perfectly.", "Solid build quality, feels premium."),
        ("quality", "negative"): (
            "The {product} broke after a few weeks.",
            "It arrived scratched & with parts missing.",
        ),
        ("website", "positive"): ("The website is quick and easy to use.", "Checkout in the app took a minute."),
        ("website", "negative"): ("The website kept logging me out.", "Payment failed twice in the app."),
        ("waiting", "positive"): ("They answered within minutes.", "No waiting at all on the hotline."),
        ("waiting", "negative"): ("I waited 40 minutes on the hotline.", "Three e-mails and still no answer."),
    },
    "cs": {
        ("price", "positive"): ("Férové ceny za to, co dostanete.", "{product} byl levnější než jinde."),
        ("price", "negative"): ("Ceny pořád rostou.", "{product} je v jiných obchodech levnější."),
        ("delivery", "positive"): ("Doručení do města {city} trvalo jen dva dny.", "Kurýr přijel včas a byl opatrný."),
        ("delivery", "negative"): ("Balík přišel o týden později.", "Kurýr nezavolal a nechal balík u souseda."),
        ("staff", "positive"): ("Personál v prodejně {city} se opravdu vyzná.", "Operátorka na lince byla moc milá."),
        ("staff", "negative"): ("Nikdo mi neuměl říct, co se děje.", "Operátor byl nepříjemný a zavěsil."),
        ("quality", "positive"): ("{product} funguje bez chyby.", "Pevné zpracování, působí kvalitně."),
        ("quality", "negative"): ("{product} se po pár týdnech rozbil.", "Přišlo to poškrábané & chyběly díly."),
        ("website", "positive"): ("Web je rychlý a přehledný.", "Objednávka v aplikaci zabrala minutu."),
        ("website", "negative"): ("Web mě pořád odhlašoval.", "Platba v aplikaci dvakrát selhala."),
        ("waiting", "positive"): ("Odpověděli během pár minut.", "Na lince jsem vůbec nečekal."),
        ("waiting", "negative"): ("Na lince jsem čekal 40 minut.", "Tři e-maily a pořád žádná odpověď."),
    },
    "pl": {
        ("price", "positive"): ("Uczciwe ceny za to, co się dostaje.", "{product} był tańszy niż gdzie indziej."),
        ("price", "negative"): ("Ceny ciągle rosną.", "{product} w innych sklepach kosztuje mniej."),
        ("delivery", "positive"): (
            "Dostawa do miasta {city} trwała tylko dwa dni.",
            "Kurier był punktualny i ostrożny.",
        ),
        ("delivery", "negative"): (
            "Paczka przyszła tydzień później.",
            "Kurier nie zadzwonił i zostawił paczkę u sąsiada.",
        ),
        ("staff", "positive"): ("Obsługa w sklepie {city} zna się na rzeczy.", "Konsultantka była bardzo miła."),
        ("staff", "negative"): (
            "Nikt nie umiał mi powiedzieć, co się dzieje.",
            "Konsultant był niegrzeczny i się rozłączył.",
        ),
        ("quality", "positive"): ("{product} działa bez zarzutu.", "Solidne wykonanie, czuć jakość."),
        ("quality", "negative"): ("{product} zepsuł się po kilku tygodniach.", "Przyszło porysowane & bez części."),
        ("website", "positive"): ("Strona jest szybka i przejrzysta.", "Zamówienie w aplikacji zajęło minutę."),
        ("website", "negative"): ("Strona ciągle mnie wylogowywała.", "Płatność w aplikacji dwa razy się nie udała."),
        ("waiting", "positive"): ("Odpowiedzieli w kilka minut.", "Na infolinii w ogóle nie czekałem."),
        ("waiting", "negative"): ("Czekałem 40 minut na infolinii.", "Trzy maile i nadal brak odpowiedzi."),
    },
    "hr": {
        ("price", "positive"): ("Poštene cijene za ono što dobijete.", "{product} je bio jeftiniji nego drugdje."),
        ("price", "negative"): ("Cijene stalno rastu.", "{product} je u drugim trgovinama jeftiniji."),
        ("delivery", "positive"): (
            "Dostava u grad {city} trajala je samo dva dana.",
            "Dostavljač je bio točan i pažljiv.",
        ),
        ("delivery", "negative"): (
            "Paket je stigao tjedan dana kasnije.",
            "Dostavljač nije nazvao i ostavio je paket kod susjeda.",
        ),
        ("staff", "positive"): (
            "Osoblje u trgovini {city} stvarno zna o proizvodima.",
            "Agentica na telefonu bila je vrlo ljubazna.",
        ),
        ("staff", "negative"): (
            "Nitko mi nije znao reći što se događa.",
            "Agent je bio nepristojan i prekinuo je poziv.",
        ),
        ("quality", "positive"): ("{product} radi savršeno.", "Čvrsta izrada, osjeti se kvaliteta."),
        ("quality", "negative"): (
            "{product} se pokvario nakon nekoliko tjedana.",
            "Stiglo je izgrebano & bez dijelova.",
        ),
        ("website", "positive"): ("Web stranica je brza i pregledna.", "Narudžba u aplikaciji trajala je minutu."),
        ("website", "negative"): ("Stranica me stalno odjavljivala.", "Plaćanje u aplikaciji dvaput nije uspjelo."),
        ("waiting", "positive"): ("Odgovorili su za nekoliko minuta.", "Na liniji uopće nisam čekao."),
        ("waiting", "negative"): ("Na liniji sam čekao 40 minuta.", "Tri e-maila i još nema odgovora."),
    },
    "ro": {
        ("price", "positive"): (
            "Prețuri corecte pentru ce primești.",
            "{product} a fost mai ieftin decât în altă parte.",
        ),
        ("price", "negative"): ("Prețurile tot cresc.", "{product} costă mai puțin în alte magazine."),
        ("delivery", "positive"): ("Livrarea în {city} a durat doar două zile.", "Curierul a fost punctual și atent."),
        ("delivery", "negative"): (
            "Coletul a venit cu o săptămână întârziere.",
            "Curierul nu a sunat și a lăsat coletul la vecini.",
        ),
        ("staff", "positive"): (
            "Personalul din magazinul din {city} chiar cunoaște produsele.",
            "Operatoarea a fost foarte amabilă.",
        ),
        ("staff", "negative"): (
            "Nimeni nu mi-a putut spune ce se întâmplă.",
            "Operatorul a fost nepoliticos și a închis.",
        ),
        ("quality", "positive"): ("{product} funcționează perfect.", "Construcție solidă, se simte calitatea."),
        ("quality", "negative"): ("{product} s-a stricat după câteva săptămâni.", "A sosit zgâriat & fără piese."),
        ("website", "positive"): ("Site-ul este rapid și ușor de folosit.", "Comanda în aplicație a durat un minut."),
        ("website", "negative"): ("Site-ul mă tot deconecta.", "Plata în aplicație a eșuat de două ori."),
        ("waiting", "positive"): ("Au răspuns în câteva minute.", "Nu am așteptat deloc la telefon."),
        ("waiting", "negative"): ("Am așteptat 40 de minute la telefon.", "Trei e-mailuri și încă niciun răspuns."),
    },
}

# "But" between a good and a bad sentence of a mixed comment.
BUT = {"en": "But", "cs": "Ale", "pl": "Ale", "hr": "Ali", "ro": "Dar"}
