"""Name pools and fictional places for the synthetic person population (casetrail.people.population).

The pools extend the demo's (casetrail.demo.people.TRADITIONS): common given and family names
from the naming traditions found across the UK population, written from general knowledge,
never taken from any record. Each list runs roughly from the most to the least common, and
the generator weights them that way (a Zipf-like curve), so common names collide as they do
in life. Places are invented: the postcode areas below are not real UK postcode areas, and
the towns and streets exist nowhere.
"""

from __future__ import annotations

from casetrail.demo.people import _AVOID as _DEMO_AVOID
from casetrail.demo.people import AGE_WEIGHTS as _DEMO_AGE_WEIGHTS
from casetrail.demo.people import STREET_NAMES as _DEMO_STREETS
from casetrail.demo.people import TRADITION_WEIGHTS as _DEMO_WEIGHTS
from casetrail.demo.people import TRADITIONS as _DEMO_TRADITIONS

_MORE: dict[str, dict[str, tuple[str, ...]]] = {
    "white_british": {
        "male": ("James", "Samuel", "Joseph", "Henry", "Noah", "Leo", "Arthur", "Freddie", "Theo", "Archie",
                 "Alexander", "Benjamin", "Edward", "Max", "Lucas", "Isaac", "Matthew", "Christopher", "Michael",
                 "Andrew", "Robert", "Richard", "David", "Anthony", "Jonathan", "Nicholas", "Stephen", "Dominic",
                 "Sebastian", "Zachary", "Frederick", "Alfred", "Harrison", "Cameron", "Nathaniel", "Adam",
                 "Dylan", "Jamie", "Ben", "Sam", "Joe", "Tom", "Alex", "Finley", "Toby", "Louis", "Elliot",
                 "Jordan", "Scott", "Shane", "Dean", "Craig", "Wayne", "Lee", "Mark", "Paul", "Gary", "Stuart",
                 "Darren", "Jason", "Carl", "Martin", "Simon", "Neil", "Ian", "Gavin", "Kenneth", "Peter",
                 "Timothy", "Gregory", "Francis", "Stanley", "Reginald", "Douglas", "Elijah", "Gabriel",
                 "Jayden", "Aidan", "Morgan", "Frankie", "Rory", "Ross", "Jonah", "Rhys"),
        "female": ("Isabella", "Ava", "Mia", "Poppy", "Freya", "Evie", "Charlotte", "Lily", "Sophia", "Ruby",
                   "Florence", "Katherine", "Elizabeth", "Rebecca", "Victoria", "Hannah", "Abigail", "Eleanor",
                   "Georgia", "Amy", "Lucy", "Emma", "Sarah", "Laura", "Rachel", "Kayleigh", "Leah", "Jasmine",
                   "Samantha", "Natalie", "Danielle", "Stacey", "Gemma", "Kirsty", "Nicola", "Louise",
                   "Catherine", "Jennifer", "Matilda", "Harriet", "Imogen", "Evelyn", "Madison", "Abbie",
                   "Ellie", "Maisie", "Phoebe", "Daisy", "Scarlett", "Zoe", "Caitlin", "Jade", "Courtney"),
        "family": ("Williams", "Brown", "Moore", "White", "Martin", "Lee", "Harris", "Clark", "Lewis", "Young",
                   "King", "Scott", "Hill", "Cooper", "Ward", "Morris", "Turner", "Baker", "Cox", "Carter",
                   "Mitchell", "Webb", "Allen", "Bell", "Cook", "Bennett", "Price", "Palmer", "Cohen", "Levy",
                   "Stephenson", "Phillips", "Matthews", "Parker", "Edwards", "Collins", "Stewart", "Morgan",
                   "Bailey", "Adams", "Chapman", "Ellis", "Lawrence", "Fox", "Knight", "Mills", "Butler",
                   "Russell", "Barnes", "Fisher", "Henderson", "Gibson", "Ross", "Grey", "Read", "Davis",
                   "Thomas", "Lloyd", "Atkinson", "Fletcher", "Hudson", "Newton", "Porter", "Spencer", "Warren",
                   "Dixon", "Lowe", "Burton", "Holmes", "Rhodes", "Sutton", "Payne", "Hunt", "Armstrong"),
    },
    "irish": {
        "male": ("Patrick", "Seamus", "Eoin", "Cormac", "Declan", "Fionn", "Ronan", "Tadhg", "Kieran", "Shane",
                 "Brendan", "Colm", "Dermot", "Aidan", "Sean"),
        "female": ("Caoimhe", "Sinead", "Roisin", "Orla", "Saoirse", "Grainne", "Clodagh", "Aisling", "Bronagh",
                   "Eimear", "Maeve", "Deirdre"),
        "family": ("O'Connor", "O'Sullivan", "Walsh", "Ryan", "Kennedy", "Lynch", "Brennan", "Doherty",
                   "McLaughlin", "Fitzgerald", "Flanagan", "Boyle", "Devlin", "Kavanagh", "Nolan", "Hogan"),
    },
    "polish": {
        "male": ("Piotr", "Krzysztof", "Wojciech", "Łukasz", "Paweł", "Aleksander", "Kamil", "Adrian", "Marcin",
                 "Oskar", "Maksymilian"),
        "female": ("Katarzyna", "Małgorzata", "Agnieszka", "Aleksandra", "Maja", "Wiktoria", "Magdalena",
                   "Joanna", "Karolina", "Martyna"),
        "family": ("Kowalczyk", "Kamiński", "Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Jankowski",
                   "Wojciechowski", "Kwiatkowski", "Piotrowski", "Grabowski", "Pawlak", "Michalski", "Król"),
    },
    "romanian": {
        "male": ("Ștefan", "Gabriel", "Constantin", "Ion", "Vasile", "Marius", "Razvan", "Cosmin", "Gheorghe"),
        "female": ("Maria", "Alexandra", "Mihaela", "Cristina", "Roxana", "Daniela", "Gabriela"),
        "family": ("Popa", "Radu", "Munteanu", "Matei", "Ciobanu", "Rusu", "Georgescu", "Moldovan", "Barbu",
                   "Florea", "Dinu"),
    },
    "pakistani_bangladeshi": {
        "male": ("Mohammad", "Abdullah", "Ali", "Usman", "Umar", "Idris", "Ilyas", "Yasin", "Suleiman", "Abdul Rahman",
                 "Haroon", "Kashif", "Shahid", "Rizwan", "Saad", "Arham", "Musa", "Zakaria", "Abdul", "Junaid",
                 "Asif", "Nabeel", "Waqas", "Rayyan", "Ayan", "Daniyal", "Sami", "Shakil", "Jamal", "Rafiq"),
        "female": ("Khadija", "Zainab", "Ayesha", "Mariam", "Safiya", "Inaya", "Anaya", "Hania", "Iqra", "Mahnoor",
                   "Alisha", "Samina", "Nadia", "Shabana", "Rukhsana", "Tahmina", "Sumaiya", "Yasmin"),
        "family": ("Ali", "Shah", "Begum", "Bibi", "Qureshi", "Butt", "Sheikh", "Riaz", "Aslam", "Anwar",
                   "Bashir", "Nawaz", "Saleem", "Javed", "Hossain", "Rehman", "Haque", "Karim", "Alam", "Sarwar",
                   "Zaman", "Ashraf", "Shafiq"),
    },
    "indian": {
        "male": ("Rahul", "Aditya", "Vivek", "Rajesh", "Sanjay", "Krishna", "Rishi", "Vijay", "Anil", "Deepak",
                 "Hitesh", "Jayesh", "Manish", "Pranav", "Yash", "Ishaan", "Vihaan"),
        "female": ("Anjali", "Divya", "Shreya", "Meera", "Riya", "Sonia", "Kavita", "Asha", "Nisha", "Aarti",
                   "Bhavna", "Hema", "Priyanka"),
        "family": ("Shah", "Mehta", "Kumar", "Gupta", "Verma", "Rana", "Naidoo", "Pillai", "Nair", "Iyer",
                   "Bhatt", "Trivedi", "Pandya", "Modha", "Rathod", "Gohil", "Thakkar"),
    },
    "sikh": {
        "male": ("Jaskaran", "Gurdeep", "Sukhdeep", "Navdeep", "Rajinder", "Kuldeep", "Sandeep", "Parminder",
                 "Harjit", "Balvinder", "Arjan", "Gurveer", "Sukhwinder", "Jasvir", "Amritpal"),
        "female": ("Manpreet", "Harpreet", "Gurpreet", "Jaspreet", "Amandeep", "Rajvinder", "Kiranjit", "Sukhjit",
                   "Parveen", "Navneet"),
        "family": ("Grewal", "Atwal", "Kang", "Bhamra", "Rai", "Sahota", "Mann", "Sangha", "Hayer", "Dhaliwal",
                   "Kalsi", "Chahal", "Bassi", "Sohal"),
    },
    "black_african": {
        "male": ("Oluwatobi", "Oluwafemi", "Babatunde", "Adebayo", "Chukwuemeka", "Obinna", "Ikechukwu",
                 "Kwabena", "Kojo", "Daniel", "Michael", "Joshua", "Blessing", "Oluwaseun", "Ifeanyi", "Uchechukwu",
                 "Temitope", "Nnamdi", "Ebuka", "Kelechi"),
        "female": ("Blessing", "Precious", "Favour", "Temitope", "Funmilayo", "Chiamaka", "Adwoa", "Esi", "Ngozi",
                   "Folasade", "Oluwakemi", "Yetunde", "Nkechi", "Amarachi", "Grace", "Comfort"),
        "family": ("Oladipo", "Okonkwo", "Okeke", "Obi", "Adeleke", "Afolabi", "Ogundipe", "Oyewole", "Appiah",
                   "Boakye", "Darko", "Agyeman", "Ibrahim", "Onyeka", "Olawale", "Adeyinka", "Akinola",
                   "Uzoma", "Amadi", "Oduya"),
    },
    "black_caribbean": {
        "male": ("Kareem", "Leon", "Jordan", "Nathan", "Kyle", "Jermaine", "Dwight", "Curtis", "Reuben", "Isaiah",
                 "Levi", "Tyler", "Ashley", "Delroy"),
        "female": ("Jasmine", "Chantelle", "Tanisha", "Kadeisha", "Naomi", "Renee", "Simone", "Monique", "Marcia",
                   "Latoya"),
        "family": ("Williams", "Brown", "Thomas", "Clarke", "Johnson", "Lewis", "Walker", "James", "Robinson",
                   "Edwards", "Bennett", "Spencer", "Harvey", "Lindo", "Powell", "Wright", "Graham", "Hylton",
                   "McKenzie", "Blake"),
    },
    "somali": {
        "male": ("Mohamed", "Ahmed", "Abdullahi", "Abdikarim", "Hassan", "Omar", "Ismail", "Yusuf", "Abdiaziz",
                 "Mustafe", "Khalid", "Ilyas", "Said", "Bashir", "Farah", "Abdiqani", "Ayub", "Hamza"),
        "female": ("Fadumo", "Amina", "Halima", "Asha", "Hibo", "Khadra", "Sahra", "Nasra", "Idil", "Fartun",
                   "Maryan", "Hamdi", "Ayan"),
        "family": ("Mohamed", "Ahmed", "Hassan", "Ali", "Abdi", "Omar", "Yusuf", "Hussein", "Farah", "Abdullahi",
                   "Mohamud", "Egal", "Hirsi", "Samatar", "Dirie", "Guleid", "Abdille", "Shire", "Musse"),
    },
    "arab": {
        "male": ("Mohammed", "Ali", "Hassan", "Ibrahim", "Youssef", "Abdulrahman", "Tariq", "Hamza", "Adam",
                 "Marwan", "Nabil", "Walid", "Bassam", "Majid", "Faisal", "Zaid", "Abdullah", "Saeed", "Anas"),
        "female": ("Fatima", "Mariam", "Nour", "Hana", "Dina", "Reem", "Lina", "Sara", "Amal", "Aya", "Jana",
                   "Malak", "Ghada", "Rasha"),
        "family": ("Al-Hassan", "El-Sayed", "Al-Amin", "Al-Rashid", "Hassan", "Ali", "Ibrahim", "Mahmoud",
                   "Youssef", "Abdullah", "Hussein", "Salem", "Farouk", "Hamdi", "Shaker", "Nassar", "Issa",
                   "Khoury", "Haddad", "Suleiman", "Mustafa", "Omar"),
    },
    "turkish_kurdish": {
        "male": ("Mustafa", "Ahmet", "Ali", "Hüseyin", "Murat", "Hasan", "Ibrahim", "Yusuf", "Can", "Burak",
                 "Onur", "Ozan", "Rojhat", "Azad"),
        "female": ("Ayse", "Fatma", "Emine", "Özlem", "Derya", "Gul", "Sevda", "Berivan", "Ebru", "Merve"),
        "family": ("Şahin", "Yıldız", "Öztürk", "Çelik", "Doğan", "Aydın", "Kılıç", "Aslan", "Çetin", "Kurt",
                   "Koç", "Özdemir", "Polat", "Erdem", "Yavuz", "Karaca"),
    },
    "chinese": {
        "male": ("Jian", "Hui", "Kai", "Long", "Peng", "Yi", "Chun", "Tao", "Bo", "Zhi", "Xiang", "Yu"),
        "female": ("Xiaoling", "Ying", "Fang", "Jing", "Yan", "Hui", "Qing", "Li", "Na", "Ling"),
        "family": ("Huang", "Wang", "Lin", "Zhou", "Wu", "Yang", "Xu", "Tang", "Leung", "Chan", "Lau", "Lee",
                   "Tsang", "Fung", "Tam", "Kwok", "Chow", "Yip"),
    },
}

_NEW: dict[str, dict[str, tuple[str, ...]]] = {
    "scottish": {
        "male": ("Callum", "Lewis", "Euan", "Finlay", "Rory", "Hamish", "Fraser", "Angus", "Ruaridh", "Calum",
                 "Alasdair", "Murray", "Fergus", "Struan", "Innes", "Blair", "Kenzie"),
        "female": ("Eilidh", "Iona", "Kirsty", "Isla", "Mhairi", "Morag", "Catriona", "Ailsa", "Fiona", "Skye",
                   "Shona"),
        "family": ("MacDonald", "Campbell", "Stewart", "Robertson", "Mackenzie", "Ross", "Fraser", "Murray",
                   "Reid", "McLean", "Paterson", "Scott", "Henderson", "Sinclair", "Buchanan", "Ferguson",
                   "Cunningham", "Gillespie", "Drummond", "McIntyre"),
    },
    "welsh": {
        "male": ("Rhys", "Dylan", "Gethin", "Gareth", "Owain", "Dafydd", "Iwan", "Osian", "Emyr", "Llewellyn",
                 "Tomos", "Aled", "Gwilym", "Ieuan", "Cai"),
        "female": ("Cerys", "Ffion", "Seren", "Rhiannon", "Carys", "Siân", "Megan", "Nia", "Eleri", "Lowri",
                   "Bethan", "Mali", "Catrin", "Ceridwen"),
        "family": ("Jones", "Williams", "Davies", "Evans", "Thomas", "Roberts", "Lewis", "Hughes", "Morgan",
                   "Griffiths", "Price", "Lloyd", "Pugh", "Rees", "Powell", "Jenkins", "Owen", "Pritchard",
                   "Bevan", "Howells", "Parry", "Vaughan"),
    },
    "ukrainian_russian": {
        "male": ("Oleksandr", "Dmytro", "Andriy", "Mykola", "Volodymyr", "Serhiy", "Yuriy", "Maksym", "Aleksandr",
                 "Dmitri", "Ivan", "Mikhail", "Artem", "Oleh", "Kyrylo", "Yevhen", "Pavel", "Viktor", "Sergei"),
        "female": ("Anastasia", "Kateryna", "Olha", "Yulia", "Tetiana", "Daria", "Natalia", "Viktoria", "Svetlana",
                   "Maria", "Sofiia", "Iryna", "Oksana"),
        "family": ("Shevchenko", "Kovalenko", "Bondarenko", "Tkachenko", "Melnyk", "Kravchenko", "Ivanov", "Petrov",
                   "Smirnov", "Kuznetsov", "Popov", "Boyko", "Koval", "Moroz", "Lysenko", "Marchenko", "Rudenko",
                   "Savchenko", "Volkov", "Sokolov"),
    },
    "portuguese_brazilian_goan": {
        "male": ("João", "Tiago", "Diogo", "Rafael", "Gabriel", "Lucas", "Francisco", "Rodrigo", "Pedro", "Miguel",
                 "Ricardo", "Fernando", "Manuel", "Antonio", "José"),
        "female": ("Beatriz", "Mariana", "Ana", "Inês", "Leonor", "Gabriela", "Carolina", "Larissa", "Sofia",
                   "Joana"),
        "family": ("Da Silva", "Dos Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues", "De Souza",
                   "Fernandes", "Gonçalves", "D'Souza", "Almeida", "Carvalho", "Lopes", "Martins", "Ribeiro",
                   "Fernandez", "Pinto", "Rebelo", "Mendes"),
    },
    "greek_cypriot": {
        "male": ("Andreas", "Georgios", "Christos", "Konstantinos", "Nikolaos", "Panagiotis", "Charalambos",
                 "Dimitrios", "Ioannis", "Michalis", "Vasilios", "Stavros", "Marios", "Savvas"),
        "female": ("Maria", "Eleni", "Katerina", "Christina", "Despina", "Androulla", "Georgia", "Panayiota",
                   "Sofia", "Stella"),
        "family": ("Georgiou", "Christou", "Papadopoulos", "Ioannou", "Constantinou", "Charalambous", "Demetriou",
                   "Nicolaou", "Savva", "Michael", "Andreou", "Antoniou", "Kyriacou", "Panayiotou", "Stylianou",
                   "Hadjipavlou", "Loizou", "Theodorou"),
    },
    "afghan": {
        "male": ("Ahmad", "Mohammad", "Abdul", "Farid", "Wahid", "Nasir", "Jawad", "Hamid", "Samiullah",
                 "Rahmatullah", "Ezatullah", "Bilal", "Hassan", "Mustafa", "Zabiullah", "Naveed", "Sohrab",
                 "Omid", "Elham"),
        "female": ("Zahra", "Mariam", "Fatima", "Parisa", "Nilofar", "Freshta", "Madina", "Marzia", "Shabnam",
                   "Tahmina"),
        "family": ("Ahmadzai", "Karimi", "Rahimi", "Safi", "Stanekzai", "Noori", "Sultani", "Amiri", "Popal",
                   "Hotak", "Ahmadi", "Mohammadi", "Hakimi", "Jalali", "Sadat", "Wardak", "Rasuli", "Azizi"),
    },
    "iranian": {
        "male": ("Reza", "Amir", "Ali", "Hossein", "Mehdi", "Arash", "Dariush", "Kaveh", "Mohammad", "Saeed",
                 "Babak", "Kian", "Navid", "Pouya", "Sina"),
        "female": ("Sara", "Maryam", "Shirin", "Leila", "Nazanin", "Parisa", "Roya", "Mina", "Fatemeh", "Niloufar",
                   "Yasaman"),
        "family": ("Mohammadi", "Hosseini", "Ahmadi", "Rezaei", "Jafari", "Karimi", "Moradi", "Rostami",
                   "Hashemi", "Kazemi", "Sadeghi", "Ebrahimi", "Ghorbani", "Najafi", "Salehi", "Bagheri"),
    },
    "eritrean_ethiopian": {
        "male": ("Yonas", "Mehari", "Robel", "Dawit", "Semere", "Filmon", "Yohannes", "Biniam", "Henok", "Amanuel",
                 "Tesfay", "Kidus", "Natnael", "Samson"),
        "female": ("Helen", "Selam", "Hiwet", "Senait", "Rahel", "Mekdes", "Tsega", "Feven", "Luwam", "Saron"),
        "family": ("Tesfay", "Gebre", "Tekle", "Haile", "Berhe", "Kidane", "Gebremedhin", "Tesfamariam",
                   "Habte", "Yemane", "Woldu", "Asfaha", "Ghirmay", "Negash", "Tsegay"),
    },
    "vietnamese": {
        "male": ("Minh", "Anh", "Đức", "Tuấn", "Thanh", "Hùng", "Nam", "Quang", "Long", "Dũng", "Huy", "Khoa"),
        "female": ("Linh", "Thảo", "Hương", "Lan", "Mai", "Ngọc", "Trang", "Hoa", "Thu", "Vy"),
        "family": ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Phan", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương",
                   "Lý"),
    },
    "albanian": {
        "male": ("Arben", "Besnik", "Ermal", "Klodian", "Erion", "Florian", "Kristian", "Dritan", "Endrit",
                 "Arlind", "Gentian", "Blerim", "Luan"),
        "female": ("Elira", "Arjola", "Besa", "Drita", "Elona", "Jonida", "Klea", "Ardita", "Ilda"),
        "family": ("Krasniqi", "Gashi", "Berisha", "Leka", "Dervishi", "Kola", "Hysa", "Shehu", "Morina",
                   "Bajrami", "Hoxhaj", "Marku", "Kelmendi", "Rexhepi", "Cela", "Duka"),
    },
    "dutch": {
        "male": ("Daan", "Sem", "Lars", "Bram", "Matthijs", "Ruben", "Jeroen", "Sander", "Niels", "Pieter"),
        "female": ("Sanne", "Lotte", "Fleur", "Anouk", "Femke", "Marieke", "Eva", "Lieke"),
        "family": ("De Vries", "Van der Berg", "Van Dijk", "Bakker", "Jansen", "Visser", "De Jong", "Van den Broek",
                   "Smit", "Mulder", "De Boer", "Van Leeuwen"),
    },
}


# A longer tail for the larger traditions, so that two people share a full name about as
# often as they do in life rather than as often as a short list would make them.
_TAIL: dict[str, dict[str, tuple[str, ...]]] = {
    "polish": {
        "male": ("Jan", "Antoni", "Franciszek", "Wiktor", "Igor", "Stanisław", "Marek", "Grzegorz", "Rafał",
                 "Sebastian", "Patryk", "Damian", "Hubert", "Dominik"),
        "female": ("Zofia", "Hanna", "Lena", "Alicja", "Amelia", "Anna", "Ewa", "Monika", "Paulina", "Weronika"),
        "family": ("Zając", "Pawłowski", "Wieczorek", "Jabłoński", "Wróbel", "Nowakowski", "Majewski", "Olszewski",
                   "Stępień", "Malinowski", "Jaworski", "Adamczyk", "Dudek", "Nowicki", "Górski", "Witkowski",
                   "Walczak", "Sikora", "Baran", "Rutkowski", "Michalak", "Szewczyk", "Ostrowski", "Tomaszewski",
                   "Pietrzak", "Zalewski", "Wróblewski"),
    },
    "romanian": {
        "male": ("Daniel", "Ionel", "Robert", "Sorin", "Catalin", "Valentin", "Dragos", "Ovidiu"),
        "female": ("Ana", "Raluca", "Larisa", "Diana", "Alina"),
        "family": ("Tudor", "Dobre", "Ene", "Nistor", "Toma", "Mocanu", "Oprea", "Voicu", "Lazar", "Preda", "Sandu",
                   "Cojocaru"),
    },
    "pakistani_bangladeshi": {
        "male": ("Subhan", "Ehsan", "Faizan", "Hasnain", "Shoaib", "Talha", "Huzaifa", "Ammar", "Umair", "Mikail",
                 "Eesa", "Zayan", "Raheem", "Sufyan", "Sajid", "Tahir", "Nadeem", "Wasim", "Zubair"),
        "female": ("Aleena", "Eman", "Hiba", "Laiba", "Maira", "Minahil", "Rabia", "Saima", "Sadia", "Shazia",
                   "Uzma", "Zoya", "Noreen", "Farzana", "Nasima", "Sabrina", "Sharmin", "Taslima"),
        "family": ("Mirza", "Abbasi", "Dar", "Mir", "Bhatti", "Awan", "Janjua", "Rajput", "Sultan", "Hanif",
                   "Latif", "Yousaf", "Habib", "Siddique", "Ahmad"),
    },
    "indian": {
        "male": ("Aryan", "Dhruv", "Harsh", "Kunal", "Mihir", "Neil", "Om", "Parth", "Ravi", "Suraj", "Tejas",
                 "Varun"),
        "female": ("Avni", "Diya", "Isha", "Jiya", "Khushi", "Mansi", "Nikita", "Radhika", "Sapna", "Tanvi"),
        "family": ("Chopra", "Kapoor", "Malhotra", "Reddy", "Rao", "Menon", "Das", "Bose", "Banerjee", "Ghosh",
                   "Agarwal", "Jain", "Vora", "Makwana", "Vaghela", "Varsani", "Hirani", "Chavda", "Kotecha",
                   "Lakhani", "Ruparelia"),
    },
    "black_african": {
        "male": ("Chinonso", "Emeka", "Segun", "Kayode", "Dayo", "Kwesi", "Nana", "Kelvin", "Godwin", "Prince",
                 "Ebenezer", "Isaac", "Jeremiah"),
        "female": ("Ayomide", "Ifeoma", "Nneka", "Oluwatoyin", "Titilayo", "Abimbola", "Efua", "Akosua", "Esther",
                   "Mercy", "Patience"),
        "family": ("Adewale", "Chukwu", "Ezeh", "Nnaji", "Ogbonna", "Okoye", "Onuoha", "Opoku", "Acheampong",
                   "Addo", "Amoah", "Antwi", "Frimpong", "Bello", "Lawal", "Balogun", "Ojo", "Adeniyi"),
    },
    "somali": {
        "male": ("Abdirizak", "Abdiwali", "Abdirashid", "Abdisalam", "Mukhtar", "Hussein", "Jamal", "Nasir",
                 "Sharmarke", "Osman"),
        "female": ("Deqa", "Fowsiya", "Hawa", "Kaltun", "Leyla", "Nimco", "Ruqiya", "Sucaad", "Zamzam"),
        "family": ("Abdirahman", "Bile", "Hersi", "Jibril", "Mire", "Nuh", "Roble", "Sheikh", "Warfa", "Yasin",
                   "Gure", "Dahir", "Ibrahim"),
    },
    "arab": {
        "male": ("Ahmed", "Hussein", "Karam", "Louay", "Mazen", "Nader", "Qusay", "Samer", "Tamer", "Wael", "Yazan",
                 "Ayman", "Hisham", "Jamil"),
        "female": ("Dalia", "Farah", "Israa", "Joud", "Leen", "Maya", "Nadine", "Rahaf", "Rana", "Shahd", "Tala"),
        "family": ("Abbas", "Abdallah", "Ahmad", "Asfour", "Chehab", "Daher", "Fakhoury", "Ghanem", "Hijazi",
                   "Kassem", "Masri", "Najjar", "Rizk", "Sayegh", "Tahan", "Zayed"),
    },
    "chinese": {
        "male": ("Jie", "Lei", "Qiang", "Rui", "Tian", "Xiao", "Yong", "Zhen", "Haoran", "Yuxuan", "Zixuan"),
        "female": ("Jiaxin", "Xinyi", "Yuting", "Siqi", "Wenjing", "Mengyao", "Shan", "Zihan"),
        "family": ("Zhao", "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Gao", "Luo", "Zheng", "Liang", "Xie", "Song",
                   "Han", "Feng", "Deng", "Cao", "Peng", "Zeng", "Jiang", "Yu", "Du", "Ye", "Cheng"),
    },
    "turkish_kurdish": {
        "male": ("Emir", "Eren", "Kaan", "Efe", "Arda", "Mert", "Ömer", "Halil"),
        "female": ("Büşra", "Esra", "Gizem", "Hande", "Seda", "Tuğba"),
        "family": ("Aksoy", "Bulut", "Güler", "Ateş", "Keskin", "Ünal", "Tekin", "Korkmaz", "Şimşek", "Güneş"),
    },
    "black_caribbean": {
        "male": ("Reggie", "Kemar", "Omari", "Rashad", "Devon", "Lamar"),
        "female": ("Shaniqua", "Aliyah", "Kiara", "Nia", "Rochelle"),
        "family": ("Anderson", "Barrett", "Chambers", "Dixon", "Ellis", "McFarlane", "Hinds", "Gayle", "Bryan",
                   "Thompson"),
    },
}


def _merged() -> dict[str, dict[str, tuple[str, ...]]]:
    pools: dict[str, dict[str, tuple[str, ...]]] = {}
    for tradition, parts in _DEMO_TRADITIONS.items():
        extra, tail = _MORE.get(tradition, {}), _TAIL.get(tradition, {})
        pools[tradition] = {part: tuple(dict.fromkeys(names + extra.get(part, ()) + tail.get(part, ())))
                            for part, names in parts.items()}
    pools.update(_NEW)
    return pools


# Traditions where a few surnames really are shared by many families (Khan, Singh, Patel,
# Nguyen, Chen ...): their surnames are drawn more unevenly than the others'.
CONCENTRATED_SURNAMES: frozenset[str] = frozenset({
    "white_british", "pakistani_bangladeshi", "indian", "sikh", "somali", "chinese", "vietnamese", "welsh"})


TRADITIONS: dict[str, dict[str, tuple[str, ...]]] = _merged()

# Rough shares of each tradition among people referred, plus "mixed" (a given name from one
# tradition and a family name from another). Illustrative only, like the demo's.
TRADITION_WEIGHTS: dict[str, float] = {
    **{name: float(weight) for name, weight in _DEMO_WEIGHTS.items()},
    "white_british": 38.0, "scottish": 4.0, "welsh": 3.0, "ukrainian_russian": 1.5,
    "portuguese_brazilian_goan": 1.5, "greek_cypriot": 1.0, "afghan": 1.5, "iranian": 1.0,
    "eritrean_ethiopian": 1.0, "vietnamese": 0.7, "albanian": 1.0, "dutch": 0.3,
}
MIXED_PAIRS: tuple[tuple[str, str], ...] = (
    ("white_british", "black_caribbean"), ("black_caribbean", "white_british"),
    ("white_british", "pakistani_bangladeshi"), ("irish", "black_african"), ("white_british", "chinese"),
    ("white_british", "black_african"), ("scottish", "indian"), ("white_british", "polish"),
    ("welsh", "greek_cypriot"), ("white_british", "arab"),
)

# English-style surnames built from place-name elements: the long tail of British surnames
# (Ashworth, Whitfield, Hollinshaw ...). Most are real surnames; none identifies anyone.
_SURNAME_HEADS = ("Ash", "Black", "Brad", "Brook", "Brom", "Cart", "Chad", "Craw", "Dun", "Fair", "Green", "Hal",
                  "Har", "Hat", "Hay", "Hol", "Hun", "Ken", "Lang", "Lin", "Marsh", "Mid", "Mor", "North", "Oak",
                  "Pen", "Ram", "Rod", "Shep", "Stan", "Stock", "Thorn", "Ward", "Wes", "Whit", "Win", "Wood",
                  "Ather", "Barn", "Bur", "Cliff", "Crom", "Dar", "Ed", "Fern", "Gold", "Hart", "Hawk")
_SURNAME_TAILS = ("ley", "ton", "worth", "field", "ford", "by", "wood", "well", "more", "ham", "hurst", "ridge",
                  "stone", "dale", "wick", "croft", "bury", "shaw", "cliffe", "land", "hill", "brook")


def _compound_surnames() -> tuple[str, ...]:
    names = []
    for tail in _SURNAME_TAILS:  # tail-major, so the rarer compounds spread over every tail
        for head in _SURNAME_HEADS:
            if head[-1] != tail[0]:
                names.append(head + tail)
    return tuple(names)


COMPOUND_SURNAMES: tuple[str, ...] = _compound_surnames()

# Very common full names, given to a share of people on purpose: different people who share
# a name are the hard negatives of person linkage (PopulationConfig.common_name_rate).
COMMON_FULL_NAMES: tuple[tuple[str, str, str, str], ...] = (
    ("Jack", "Smith", "male", "white_british"), ("Oliver", "Smith", "male", "white_british"),
    ("Harry", "Jones", "male", "white_british"), ("Olivia", "Jones", "female", "white_british"),
    ("James", "Taylor", "male", "white_british"), ("Thomas", "Williams", "male", "welsh"),
    ("Emily", "Wilson", "female", "white_british"), ("Mohammed", "Khan", "male", "pakistani_bangladeshi"),
    ("Muhammad", "Hussain", "male", "pakistani_bangladeshi"), ("Mohammed", "Ahmed", "male", "pakistani_bangladeshi"),
    ("Mohamed", "Hassan", "male", "somali"), ("Abdi", "Mohamed", "male", "somali"),
    ("Wei", "Chen", "male", "chinese"), ("Harpreet", "Singh", "male", "sikh"),
    ("Jakub", "Nowak", "male", "polish"), ("Connor", "Murphy", "male", "irish"),
    ("Daniel", "Okafor", "male", "black_african"), ("Omar", "Haddad", "male", "arab"),
)

# Full names that would point at real, widely reported people (perpetrators, victims and
# public figures); never generated, in either name order, however a record spells them.
AVOID_FULL_NAMES: frozenset[str] = frozenset(name.lower() for name in _DEMO_AVOID | {
    "Mohamed Ali", "Muhammed Ali", "Mohammad Ali", "Mo Ali", "Salman Abedi", "Hashem Abedi", "Khairi Saadallah",
    "Ali Harbi Ali", "Ahmed Hassan", "Ahmad Hassan", "Darren Osborne", "Khuram Butt", "Rachid Redouane",
    "Youssef Zaghba", "Shehzad Tanweer", "Hasib Hussain", "Germaine Lindsay", "Michael Adebolajo",
    "Michael Adebowale", "Sudesh Amman", "Emad Al Swealmeen", "Mohammed Emwazi", "Jack Renshaw",
    "Axel Rudakubana", "Anjem Choudary", "Mohammed Rehman", "Lee Rigby", "Jo Cox", "David Amess", "Andrew Ibrahim",
    "Nicky Reilly", "Richard Reid", "Roshonara Choudhry", "Yassin Omar", "Yasin Omar", "Ramzi Mohammed",
    "Hussain Osman", "Muktar Ibrahim", "Omar Khyam", "Mohamed Farah", "Mohammed Farah", "Mo Farah",
    "Mohamed Salah", "Mohammed Salah", "Sadiq Khan", "David Cameron", "Gordon Brown", "Tom Jones", "Harry Kane",
    "Abu Hamza", "Omar Bakri", "Abdulla Ali", "Umar Farouk",
    "Safaa Boular", "Thomas Mair", "Jordan Henderson", "Harry Styles", "Adam Johnson",
    "Ian Huntley", "Joanna Dennehy", "Steven Gerrard", "Ryan Giggs", "Gareth Bale",
})

SEXES: tuple[str, str] = ("male", "female")

# Ages at first referral: the demo's curve (12 to 25, over half under 18) with a few younger
# children; the rest (OLDER_SHARE in the demo) are adults of 26 to 45.
AGE_WEIGHTS: dict[int, float] = {9: 1.0, 10: 2.0, 11: 3.0, **{age: float(w) for age, w in _DEMO_AGE_WEIGHTS.items()}}

# Fictional postcode areas (none is a real UK postcode area) with invented towns; a town's
# position in its list gives its postcode district (NS3 is the third town of Northshire).
AREAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "NS": ("Northshire", ("Ashby Cross", "Brackenfold", "Netherholme", "Kestleigh", "Marrowby", "Scarlow",
                          "Oakenfold", "Dunsmere", "Hollinthorpe", "Crossgill", "Witherby Moor", "Fenby")),
    "RV": ("Riverton", ("Riverton Central", "Cobblebank", "Wharfside", "Lowmoor Park", "Tanners Green", "Eastgate",
                        "St Anselm's", "Millbridge", "Riverton North", "Quayhead")),
    "BV": ("Bramvale", ("Bramvale", "Sedgecote", "Thistlewick", "Plover Green", "Larchmere", "Upper Bramble",
                        "Rowanstead", "Merlinford")),
    "CX": ("Calderwick", ("Calderwick", "Flintholme", "Coppergill", "Whinlow", "Gorsedale", "Sorrelby",
                          "Heronsyke", "Tealmoor", "Calder Bank")),
    "DV": ("Dunvale", ("Dunvale", "Alderstead", "Ravenscote", "Sedgefold", "Teaselby", "Brambleholme",
                       "Kestlemoor")),
    "EW": ("Eastwold", ("Eastwold", "Wold Newby", "Mardle", "Fennick", "Lowthwaite", "Saltergate End",
                        "Cobbleford", "Harrowmere", "Pennyfold")),
    "FN": ("Fenmarsh", ("Fenmarsh", "Reedholme", "Dykeby", "Marshcote", "Wherry Staithe", "Ousel Fen",
                        "Lantern Drove")),
    "GW": ("Greywater", ("Greywater", "Slatebridge", "Ironholme", "Cinderby", "Gantry Hill", "Foundry Vale",
                         "Kilnsey Cross", "Spindlewick", "Loomfield", "Shuttle End")),
    "HW": ("Hollinwick", ("Hollinwick", "Tarnside", "Brackenwick", "Cragfold", "Scarthby", "Gillmoor")),
    "KV": ("Kestrelvale", ("Kestrelvale", "Ploverby", "Wrenstead", "Finchmere", "Linnetford", "Swallowcote",
                           "Martinholme", "Siskin Green")),
    "LW": ("Lowmarsh", ("Lowmarsh", "Sallowby", "Withyfold", "Osierholme", "Carrside", "Mossthwaite")),
    "MV": ("Marrowvale", ("Marrowvale", "Quarry Bank End", "Chalkcote", "Downholme", "Flintcombe", "Barrowstead",
                          "Sarsen Cross")),
    "OW": ("Oakwold", ("Oakwold", "Acornby", "Beechstead", "Hazelmere", "Hornbeam Green", "Ashlingcote")),
    "PV": ("Pennvale", ("Pennvale", "Pennymoor", "Tollgate End", "Shillingholme", "Groatby", "Farthingcote",
                        "Guineafold")),
    "SV": ("Southvale", ("Southvale", "Lowerbrook", "Wealdcote", "Downsend", "Chalkholme", "Brackenhurst Vale",
                         "Meadowcote", "Hopfold", "Oasthurst")),
    "TV": ("Thornvale", ("Thornvale", "Blackthorn End", "Sloeby", "Brierholme", "Hawcote", "Quickset Green")),
}
# How many people live in each area, relative to the others (Riverton is the big city).
AREA_WEIGHTS: dict[str, float] = {"NS": 8, "RV": 16, "BV": 5, "CX": 6, "DV": 4, "EW": 6, "FN": 4, "GW": 9,
                                  "HW": 3, "KV": 5, "LW": 3, "MV": 4, "OW": 4, "PV": 5, "SV": 7, "TV": 3}
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters Royal Mail uses in the inward code

STREET_NAMES: tuple[str, ...] = tuple(dict.fromkeys(_DEMO_STREETS + (
    "Alder", "Bramble", "Copper", "Flint", "Gorse", "Heron", "Larch", "Merlin", "Plover", "Raven", "Rowan", "Sedge",
    "Sorrel", "Teasel", "Thistle", "Whin", "Wren", "Finch", "Linnet", "Kestrel", "Tanner", "Cooper", "Weaver",
    "Chandler", "Fletcher", "Mason", "Tinker", "Salter", "Spinner", "Dyer", "Hollin", "Marrow", "Kestle", "Netherby",
    "Bracken", "Fenwick", "Scarlow", "Dunmere", "Crossgill", "Witherby", "Cobble", "Wharf", "Lowmoor", "Quarry",
    "Foundry", "Kiln", "Furnace", "Loom", "Shuttle", "Bobbin", "Mortar", "Anvil", "Lantern", "Beacon", "Lark Rise",
    "Meadowsweet", "Foxglove", "Harebell", "Celandine", "Yarrow", "Tansy", "Campion", "Clover", "Bluebell",
)))
STREET_KINDS: tuple[str, ...] = ("Road", "Street", "Lane", "Avenue", "Terrace", "Close", "Grove", "Way", "Crescent",
                                 "Drive", "Court", "Gardens", "Place", "Row", "Walk")
STREET_KIND_ABBREVIATIONS: dict[str, str] = {
    "Road": "Rd", "Street": "St", "Lane": "Ln", "Avenue": "Ave", "Terrace": "Terr", "Close": "Cl", "Grove": "Gr",
    "Crescent": "Cres", "Drive": "Dr", "Court": "Ct", "Gardens": "Gdns", "Place": "Pl",
}
SCHOOL_FORMS: tuple[str, ...] = ("{town} Academy", "{town} High School", "{town} Community School",
                                 "St {saint}'s Catholic High School, {town}", "{town} Church of England Academy")
SAINTS: tuple[str, ...] = ("Anselm", "Bede", "Hilda", "Aidan", "Cuthbert", "Wilfrid", "Chad", "Oswald", "Edmund",
                           "Swithun", "Dunstan", "Brigid")
COLLEGE_FORMS: tuple[str, ...] = ("{town} Sixth Form College", "{town} College")

# English names that people of Chinese and Vietnamese heritage often use alongside their own.
ENGLISH_ALIASES: dict[str, tuple[str, ...]] = {
    "male": ("Kevin", "Jason", "Tony", "Ryan", "Michael", "Eric", "Daniel", "Alan", "Vincent", "Steven"),
    "female": ("Jenny", "Joanne", "Vivian", "Grace", "Amy", "Karen", "Michelle", "Cindy", "Helen", "Lily"),
}
ENGLISH_ALIAS_TRADITIONS: frozenset[str] = frozenset({"chinese", "vietnamese"})
