"""Four short documents to rate: good and junk, in English and in Chinese (annotation tests)."""

import pyarrow as pa

RATED_DOCS = pa.table({
    "id": ["en-good", "en-junk", "zh-good", "zh-junk"],
    "text": [
        ("Photosynthesis is the process by which plants use sunlight, water and carbon dioxide to make glucose "
         "and oxygen. It takes place in the chloroplasts, which contain the green pigment chlorophyll."),
        "buy now cheap cheap click here best price win win win free free free click",
        "光合作用是植物利用阳光、水和二氧化碳制造葡萄糖和氧气的过程。它发生在含有叶绿素的叶绿体中。",
        "点击这里 免费 免费 免费 最低价 马上购买 点击 点击",
    ],
    "lang": ["en", "en", "zh", "zh"],
})
