#include "ingest/sample_archive.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace greffier::ingest {
namespace {

using B = PdfBlock;

SampleDocument Arrete() {
  SampleDocument d{"arrete-2024-117-stationnement.pdf",
                   "arrete",
                   "2024-03-12",
                   "mairie-saint-aubin",
                   "Arrêté municipal n° 2024-117 portant réglementation du stationnement",
                   {}};
  d.blocks = {
      {B::kTitle, "ARRÊTÉ MUNICIPAL N° 2024-117"},
      {B::kParagraph,
       "portant réglementation temporaire du stationnement et de la circulation rue de la "
       "République et place du Marché à l'occasion des travaux de réfection de la voirie"},
      {B::kParagraph, "Le Maire de la commune de Saint-Aubin-sur-Loire,"},
      {B::kParagraph,
       "Vu le code général des collectivités territoriales, et notamment ses articles "
       "L. 2212-1, L. 2212-2 et L. 2213-1 ;"},
      {B::kParagraph, "Vu le code de la route, et notamment ses articles R. 411-8 et R. 417-10 ;"},
      {B::kParagraph,
       "Considérant que la réfection de la chaussée de la rue de la République nécessite "
       "l'interdiction du stationnement et la mise en place d'une circulation alternée afin "
       "d'assurer la sécurité des usagers et des agents de l'entreprise ;"},
      {B::kHeading, "ARRÊTE"},
      {B::kHeading, "Article 1er - Objet"},
      {B::kParagraph,
       "Du lundi 8 avril 2024 au vendredi 26 avril 2024, le stationnement de tous les "
       "véhicules est interdit rue de la République, entre le numéro 2 et le numéro 48, ainsi "
       "que sur les douze places situées au nord de la place du Marché."},
      {B::kHeading, "Article 2 - Circulation"},
      {B::kParagraph,
       "Pendant la durée des travaux, la circulation est alternée et réglée par des feux "
       "tricolores de chantier. La vitesse est limitée à 30 km/h dans la section concernée. "
       "Les véhicules de secours et de collecte des déchets conservent un accès permanent."},
      {B::kHeading, "Article 3 - Signalisation"},
      {B::kParagraph,
       "La signalisation réglementaire est mise en place et entretenue par l'entreprise "
       "Routes et Travaux du Val, titulaire du marché, sous le contrôle des services "
       "techniques municipaux. Elle est posée au moins quarante-huit heures avant le début "
       "des travaux."},
      {B::kHeading, "Article 4 - Sanctions"},
      {B::kParagraph,
       "Tout véhicule en stationnement en infraction au présent arrêté sera considéré comme "
       "gênant au sens de l'article R. 417-10 du code de la route et pourra faire l'objet "
       "d'une mise en fourrière aux frais de son propriétaire. Les contrevenants s'exposent "
       "à une amende de 35 euros."},
      {B::kHeading, "Article 5 - Exécution"},
      {B::kParagraph,
       "Le directeur général des services, le chef de la police municipale et le commandant "
       "de la brigade de gendarmerie sont chargés, chacun en ce qui le concerne, de "
       "l'exécution du présent arrêté, qui sera affiché en mairie et publié au recueil des "
       "actes administratifs de la commune."},
      {B::kHeading, "Article 6 - Recours"},
      {B::kParagraph,
       "Le présent arrêté peut faire l'objet d'un recours contentieux devant le tribunal "
       "administratif d'Orléans dans un délai de deux mois à compter de sa publication. Le "
       "tribunal peut être saisi par l'application Télérecours citoyens."},
      {B::kParagraph, "Fait à Saint-Aubin-sur-Loire, le 12 mars 2024. Le Maire, Claire Fontaine."},
  };
  return d;
}

SampleDocument Deliberation() {
  SampleDocument d{"deliberation-2023-45-tarifs-cantine.pdf",
                   "deliberation",
                   "2023-06-27",
                   "mairie-saint-aubin",
                   "Délibération n° 2023-45 du conseil municipal : tarifs de la restauration "
                   "scolaire",
                   {}};
  d.blocks = {
      {B::kTitle, "EXTRAIT DU REGISTRE DES DÉLIBÉRATIONS DU CONSEIL MUNICIPAL"},
      {B::kParagraph, "Séance du 27 juin 2023 - Délibération n° 2023-45"},
      {B::kParagraph,
       "L'an deux mille vingt-trois, le vingt-sept juin à dix-neuf heures, le conseil "
       "municipal de la commune de Saint-Aubin-sur-Loire, légalement convoqué le 20 juin "
       "2023, s'est réuni en séance publique à la mairie sous la présidence de Madame Claire "
       "Fontaine, Maire."},
      {B::kParagraph,
       "Nombre de conseillers en exercice : 23. Présents : 19. Pouvoirs : 3. Votants : 22."},
      {B::kHeading, "Objet : tarifs de la restauration scolaire pour l'année 2023-2024"},
      {B::kParagraph,
       "Madame l'adjointe chargée des affaires scolaires rappelle que le service de "
       "restauration scolaire accueille chaque jour environ 310 enfants des écoles "
       "maternelle et élémentaire. Le coût de revient d'un repas, charges de personnel "
       "comprises, s'élève à 8,40 euros en 2022, contre 7,65 euros en 2021, en raison de la "
       "hausse du prix des denrées et de l'énergie."},
      {B::kParagraph,
       "Vu le code général des collectivités territoriales, et notamment son article "
       "L. 2121-29 ; Vu l'avis favorable de la commission des affaires scolaires du 13 juin "
       "2023 ;"},
      {B::kParagraph,
       "Considérant la volonté de la commune de maintenir une tarification solidaire "
       "fondée sur le quotient familial ;"},
      {B::kParagraph, "Le conseil municipal, après en avoir délibéré, DÉCIDE :"},
      {B::kHeading, "Article 1er"},
      {B::kParagraph,
       "À compter du 1er septembre 2023, le prix du repas est fixé selon le quotient "
       "familial comme suit : tranche A (quotient inférieur à 500 euros) : 1,00 euro ; "
       "tranche B (de 500 à 899 euros) : 2,60 euros ; tranche C (de 900 à 1 399 euros) : "
       "3,70 euros ; tranche D (1 400 euros et plus) : 4,85 euros."},
      {B::kHeading, "Article 2"},
      {B::kParagraph,
       "Le repas servi aux enseignants et au personnel communal est facturé 6,20 euros. Le "
       "repas d'un enfant bénéficiant d'un projet d'accueil individualisé qui fournit son "
       "panier-repas est facturé 1,10 euro au titre de la surveillance."},
      {B::kHeading, "Article 3"},
      {B::kParagraph,
       "Toute absence non signalée quarante-huit heures à l'avance est facturée, sauf sur "
       "présentation d'un certificat médical."},
      {B::kHeading, "Article 4"},
      {B::kParagraph,
       "Madame le Maire est chargée de l'exécution de la présente délibération. Adoptée par "
       "20 voix pour et 2 abstentions."},
      {B::kParagraph, "Pour extrait conforme, le Maire, Claire Fontaine."},
  };
  return d;
}

SampleDocument Circulaire() {
  SampleDocument d{"circulaire-2024-archivage-numerique.pdf",
                   "circulaire",
                   "2024-01-15",
                   "prefecture",
                   "Circulaire relative à l'archivage numérique des actes",
                   {}};
  d.blocks = {
      {B::kTitle, "CIRCULAIRE DU 15 JANVIER 2024"},
      {B::kParagraph,
       "relative à l'archivage numérique des actes administratifs des collectivités "
       "territoriales"},
      {B::kParagraph,
       "Le préfet de la région à Mesdames et Messieurs les maires et présidents "
       "d'établissements publics de coopération intercommunale."},
      {B::kHeading, "Chapitre Ier - Principes"},
      {B::kHeading, "Article 1er - Champ d'application"},
      {B::kParagraph,
       "La présente circulaire s'applique aux actes réglementaires et individuels produits "
       "sous forme électronique par les collectivités territoriales et leurs groupements : "
       "arrêtés, délibérations, décisions, contrats et conventions."},
      {B::kHeading, "Article 2 - Durées de conservation"},
      {B::kParagraph,
       "Les délibérations et les arrêtés réglementaires sont conservés sans limitation de "
       "durée. Les pièces comptables sont conservées dix ans après la clôture de l'exercice. "
       "Les dossiers de marchés publics sont conservés dix ans à compter de la fin "
       "d'exécution du marché."},
      {B::kHeading, "Chapitre II - Mise en œuvre"},
      {B::kHeading, "Article 3 - Formats"},
      {B::kParagraph,
       "Les documents destinés à une conservation de longue durée sont versés au format "
       "PDF/A. Les données structurées sont versées dans un format ouvert et documenté, tel "
       "que CSV ou XML. Chaque versement est accompagné d'un bordereau conforme au standard "
       "d'échange de données pour l'archivage (SEDA)."},
      {B::kHeading, "Article 4 - Système d'archivage électronique"},
      {B::kParagraph,
       "Le système d'archivage électronique garantit l'intégrité des documents par une "
       "empreinte calculée lors du versement et vérifiée périodiquement. Toute consultation "
       "et toute élimination sont tracées dans un journal inaltérable."},
      {B::kHeading, "Article 5 - Élimination"},
      {B::kParagraph,
       "Aucune élimination de documents ne peut intervenir sans le visa préalable du "
       "directeur des archives départementales. La demande est présentée au moyen d'un "
       "bordereau d'élimination daté et signé."},
      {B::kHeading, "Article 6 - Calendrier"},
      {B::kParagraph,
       "Les collectivités de plus de 3 500 habitants mettent en œuvre ces dispositions au "
       "plus tard le 31 décembre 2025. Les autres collectivités disposent d'un délai "
       "supplémentaire d'un an."},
      {B::kParagraph, "Le préfet, Jean-Marc Delorme."},
  };
  return d;
}

SampleDocument Notice() {
  SampleDocument d{"notice-demande-carte-identite.pdf",
                   "notice",
                   "2024-09-02",
                   "mairie-saint-aubin",
                   "Notice : demander une carte nationale d'identité",
                   {}};
  d.blocks = {
      {B::kTitle, "NOTICE - DEMANDE DE CARTE NATIONALE D'IDENTITÉ"},
      {B::kParagraph,
       "Cette notice explique comment demander ou renouveler une carte nationale d'identité "
       "auprès de la mairie de Saint-Aubin-sur-Loire, commune équipée d'un dispositif de "
       "recueil des empreintes digitales."},
      {B::kHeading, "1. Prendre rendez-vous"},
      {B::kParagraph,
       "Le dépôt de la demande se fait uniquement sur rendez-vous, au service de l'état "
       "civil, du lundi au vendredi de 9 heures à 12 heures et le samedi matin. Le rendez-vous "
       "se prend en ligne ou par téléphone au 02 38 00 00 00."},
      {B::kHeading, "2. Remplir une pré-demande"},
      {B::kParagraph,
       "Une pré-demande en ligne sur le site de l'Agence nationale des titres sécurisés "
       "(ANTS) permet de gagner du temps. Le numéro de pré-demande est à présenter le jour du "
       "rendez-vous."},
      {B::kHeading, "3. Pièces à fournir"},
      {B::kParagraph,
       "Le demandeur présente une photographie d'identité de moins de six mois, un "
       "justificatif de domicile de moins d'un an, l'ancienne carte le cas échéant et, en cas "
       "de perte ou de vol, un timbre fiscal de 25 euros. Le demandeur mineur est accompagné "
       "par la personne exerçant l'autorité parentale."},
      {B::kHeading, "4. Délais et retrait"},
      {B::kParagraph,
       "Le délai de fabrication est en moyenne de trois semaines. Un SMS avertit le "
       "demandeur lorsque la carte est disponible. La carte doit être retirée en personne "
       "dans un délai de trois mois, faute de quoi elle est détruite."},
      {B::kHeading, "5. Durée de validité"},
      {B::kParagraph,
       "La carte nationale d'identité est valable dix ans pour les majeurs comme pour les "
       "mineurs. La carte délivrée est gratuite, sauf en cas de perte ou de vol."},
  };
  return d;
}

}  // namespace

const std::vector<SampleDocument>& SampleDocuments() {
  static const auto* docs =
      new std::vector<SampleDocument>{Arrete(), Deliberation(), Circulaire(), Notice()};
  return *docs;
}

const std::vector<SampleQuestion>& SampleQuestions() {
  static const auto* questions = new std::vector<SampleQuestion>{
      {"Quand le stationnement est-il interdit rue de la République ?",
       "arrete-2024-117-stationnement.pdf", "lundi 8 avril 2024 au vendredi 26 avril 2024"},
      {"Quel est le prix du repas à la cantine pour la tranche B ?",
       "deliberation-2023-45-tarifs-cantine.pdf", "2,60"},
      {"Combien de temps faut-il conserver les pièces comptables ?",
       "circulaire-2024-archivage-numerique.pdf", "dix ans après la clôture de l'exercice"},
      {"Quelles pièces fournir pour une carte d'identité ?", "notice-demande-carte-identite.pdf",
       "photographie d'identité de moins de six mois"},
      {"Devant quel tribunal former un recours contre l'arrêté ?",
       "arrete-2024-117-stationnement.pdf", "tribunal administratif d'Orléans"},
  };
  return *questions;
}

absl::StatusOr<std::vector<std::string>> WriteSampleArchive(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  std::vector<std::string> paths;
  for (const auto& doc : SampleDocuments()) {
    LayoutOptions layout;
    layout.font_size = 14;  // larger print spreads each act over several pages
    layout.header = "Commune de Saint-Aubin-sur-Loire";
    if (doc.document_type == "circulaire") layout.header = "Préfecture de la région";
    PdfDocumentSpec spec = LayoutDocument(doc.title, doc.blocks, layout);
    std::string path = (std::filesystem::path(dir) / doc.file_name).string();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    std::string bytes = WritePdf(spec);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path));
    paths.push_back(path);
  }
  std::string questions = (std::filesystem::path(dir) / "questions.txt").string();
  std::ofstream q(questions, std::ios::trunc);
  for (const auto& question : SampleQuestions()) q << question.question << "\n";
  if (!q) return absl::UnavailableError(absl::StrCat("cannot write ", questions));
  return paths;
}

}  // namespace greffier::ingest
