"""The small catalog the catalog tests index (real products, hand-written)."""

from __future__ import annotations

from shopagent.tools.store.schema import Product


def _p(
    pid: str,
    name: str,
    brand: str,
    category: str,
    description: str,
    variants: list[tuple[str, str, dict[str, str]]],
    *,
    attributes: dict[str, str] | None = None,
    tags: list[str] | None = None,
) -> Product:
    return Product.model_validate(
        {
            "id": pid,
            "name": name,
            "brand": brand,
            "category": category,
            "description": description,
            "attributes": attributes or {},
            "tags": tags or [],
            "variants": [{"sku": s, "price": price, "attributes": a} for s, price, a in variants],
        }
    )


def sample_products() -> list[Product]:
    """34 realistic products across eight categories (fictional brands)."""
    return [
        # Kitchen
        _p(
            "k-gooseneck-kettle",
            "Pour-Over Gooseneck Kettle 1L",
            "Brewline",
            "Kitchen",
            "Stainless steel gooseneck kettle with a built-in thermometer for precise pour-over "
            "coffee brewing. Works on gas, electric and induction stovetops.",
            [
                ("BL-GK-SLV", "39.00", {"color": "Silver"}),
                ("BL-GK-BLK", "44.00", {"color": "Matte Black"}),
            ],
            attributes={"material": "Stainless Steel"},
            tags=["coffee", "tea"],
        ),
        _p(
            "k-electric-kettle",
            "Electric Kettle with Temperature Control",
            "Brewline",
            "Kitchen",
            "1.7 litre cordless electric kettle with five temperature presets for green tea, "
            "oolong and French press. Keep-warm function and automatic shut-off.",
            [
                ("BL-EK-WHT", "59.00", {"color": "White"}),
                ("BL-EK-BLK", "59.00", {"color": "Black"}),
            ],
        ),
        _p(
            "k-chef-knife",
            "8-inch Chef's Knife",
            "Copperleaf",
            "Kitchen",
            "Forged high-carbon German steel chef knife with a full tang and pakkawood handle "
            "for slicing, dicing and mincing.",
            [("CL-KN8", "89.00", {})],
        ),
        _p(
            "k-skillet",
            "Cast Iron Skillet 12-inch",
            "Copperleaf",
            "Kitchen",
            "Pre-seasoned cast iron frying pan that goes from stovetop to oven. Great for "
            "searing steak and baking cornbread.",
            [("CL-SK12", "34.99", {})],
        ),
        _p(
            "k-blender",
            "Pro Countertop Blender",
            "Brewline",
            "Kitchen",
            "1200-watt blender with a 64 oz BPA-free jar for smoothies, frozen drinks and "
            "nut butters.",
            [("BL-BLND", "129.00", {"color": "Black"})],
        ),
        _p(
            "k-burr-grinder",
            "Conical Burr Coffee Grinder",
            "Brewline",
            "Kitchen",
            "Conical burr grinder with 40 grind settings, from espresso fine to French press "
            "coarse.",
            [("BL-GRND", "79.00", {"color": "Black"})],
        ),
        _p(
            "k-mugs",
            "Stoneware Coffee Mugs, Set of 4",
            "Copperleaf",
            "Kitchen",
            "12 oz glazed stoneware mugs, dishwasher and microwave safe.",
            [
                ("CL-MUG-SG", "29.00", {"color": "Sage Green"}),
                ("CL-MUG-CH", "29.00", {"color": "Charcoal"}),
            ],
        ),
        # Audio
        _p(
            "a-ax220-headphones",
            "AX-220 Wireless Noise-Cancelling Headphones",
            "Auralis",
            "Audio",
            "Over-ear Bluetooth headphones with active noise cancellation, 30-hour battery "
            "life and plush memory-foam ear cushions.",
            [
                ("AU-AX220-BLK", "199.00", {"color": "Black"}),
                ("AU-AX220-NVY", "199.00", {"color": "Navy Blue"}),
                ("AU-AX220-SND", "209.00", {"color": "Sand"}),
            ],
        ),
        _p(
            "a-pulse-buds",
            "Pulse Buds True Wireless Earbuds",
            "Auralis",
            "Audio",
            "Compact in-ear buds with a pocket charging case, IPX4 sweat resistance and 24 "
            "hours of total playback.",
            [
                ("AU-PB-BLK", "89.00", {"color": "Black"}),
                ("AU-PB-WHT", "89.00", {"color": "White"}),
            ],
        ),
        _p(
            "a-speaker",
            "Portable Bluetooth Speaker",
            "Sonora",
            "Audio",
            "Waterproof IP67 speaker with 360-degree sound and a 12-hour battery; clips onto "
            "a backpack.",
            [
                ("SO-SPK-RED", "59.00", {"color": "Red"}),
                ("SO-SPK-BLU", "59.00", {"color": "Blue"}),
                ("SO-SPK-BLK", "59.00", {"color": "Black"}),
            ],
        ),
        _p(
            "a-turntable",
            "Belt-Drive Record Player",
            "Sonora",
            "Audio",
            "Turntable with a built-in phono preamp and USB output for digitizing vinyl records.",
            [("SO-TT1", "149.00", {})],
        ),
        _p(
            "a-soundbar",
            "Slim TV Soundbar",
            "Sonora",
            "Audio",
            "2.1 channel soundbar with a wireless subwoofer and HDMI ARC for home theater.",
            [("SO-SB21", "179.00", {})],
        ),
        # Footwear
        _p(
            "f-trail-runner",
            "Trailhawk Ridge Trail Running Shoes",
            "Trailhawk",
            "Footwear",
            "Lightweight trail runners with grippy lugged outsoles and a rock plate for "
            "technical mountain terrain.",
            [
                ("TH-RDG-9", "129.00", {"size": "9", "color": "Orange"}),
                ("TH-RDG-10", "129.00", {"size": "10", "color": "Orange"}),
                ("TH-RDG-11", "134.00", {"size": "11", "color": "Grey"}),
            ],
        ),
        _p(
            "f-road-runner",
            "Cloudstep Road Running Shoes",
            "Stridewell",
            "Footwear",
            "Neutral daily trainer with responsive foam cushioning for long road runs.",
            [
                ("SW-CS-BLK", "119.00", {"color": "Black"}),
                ("SW-CS-WHT", "119.00", {"color": "White"}),
            ],
        ),
        _p(
            "f-hiking-boots",
            "Waterproof Leather Hiking Boots",
            "Trailhawk",
            "Footwear",
            "Mid-height leather boots with a waterproof membrane and Vibram outsole for "
            "backpacking trips.",
            [("TH-HB-BRN", "169.00", {"color": "Brown"})],
        ),
        _p(
            "f-slippers",
            "Shearling Lined Moccasin Slippers",
            "Stridewell",
            "Footwear",
            "Cozy moccasins lined with genuine shearling and a rubber sole for indoor and "
            "outdoor wear.",
            [("SW-SLP", "69.00", {"color": "Chestnut"})],
        ),
        # Furniture
        _p(
            "fu-harbor-sofa",
            "Harbor Three-Seat Sofa",
            "Oakhaven",
            "Furniture",
            "Mid-century three-seat sofa upholstered in performance fabric with solid oak legs "
            "and removable cushions.",
            [
                ("OH-HS-SLT", "1299.00", {"color": "Slate Grey"}),
                ("OH-HS-OAT", "1299.00", {"color": "Oatmeal"}),
            ],
        ),
        _p(
            "fu-bookcase",
            "Five-Shelf Bookcase",
            "Oakhaven",
            "Furniture",
            "Solid wood bookcase with five adjustable shelves; includes a wall anchor kit.",
            [
                ("OH-BC-WAL", "249.00", {"color": "Walnut"}),
                ("OH-BC-WHT", "229.00", {"color": "White"}),
            ],
        ),
        _p(
            "fu-dining-table",
            "Extendable Oak Dining Table",
            "Nordlund",
            "Furniture",
            "Seats six and extends to seat eight; oak veneer top with a matte lacquer finish.",
            [("NL-DT-OAK", "699.00", {})],
        ),
        _p(
            "fu-wingback",
            "Wingback Reading Armchair",
            "Nordlund",
            "Furniture",
            "Upholstered accent chair with a high back and deep seat for reading corners.",
            [("NL-WB-BLU", "449.00", {"color": "Teal Blue"})],
        ),
        # Home office
        _p(
            "ho-standing-desk",
            "Electric Standing Desk",
            "Deskwise",
            "Home Office",
            "Height-adjustable sit-stand desk with dual motors, memory presets and a 48 x 30 "
            "inch bamboo top.",
            [("DW-SD48", "499.00", {})],
        ),
        _p(
            "ho-mesh-chair",
            "Ergonomic Mesh Office Chair",
            "Deskwise",
            "Home Office",
            "Breathable mesh back, adjustable lumbar support and 4D armrests for long workdays.",
            [
                ("DW-MC-BLK", "329.00", {"color": "Black"}),
                ("DW-MC-GRY", "329.00", {"color": "Grey"}),
            ],
        ),
        _p(
            "ho-monitor-arm",
            "Dual Monitor Arm",
            "Deskwise",
            "Home Office",
            "Gas-spring arm that holds two screens up to 32 inches; clamps to the desk edge.",
            [("DW-MA2", "119.00", {})],
        ),
        _p(
            "ho-desk-lamp",
            "LED Desk Lamp with Wireless Charger",
            "Lumen & Co.",
            "Home Office",
            "Dimmable LED task light with colour temperature modes and a Qi charging pad in "
            "the base.",
            [
                ("LC-DL-BLK", "49.00", {"color": "Black"}),
                ("LC-DL-WHT", "49.00", {"color": "White"}),
            ],
        ),
        _p(
            "ho-keyboard",
            "Tenkeyless Mechanical Keyboard",
            "Deskwise",
            "Home Office",
            "Hot-swappable keyboard with tactile brown switches and PBT keycaps.",
            [("DW-KB87", "109.00", {})],
        ),
        # Outdoor
        _p(
            "o-tent",
            "Two-Person Backpacking Tent",
            "Summitcraft",
            "Outdoor",
            "Ultralight three-season tent with freestanding aluminum poles; weighs 3 lb 8 oz.",
            [("SC-T2", "299.00", {"color": "Green"})],
        ),
        _p(
            "o-sleeping-bag",
            "Down Sleeping Bag 20°F",
            "Summitcraft",
            "Outdoor",
            "650-fill down mummy bag rated to 20 degrees Fahrenheit for cold-weather camping.",
            [("SC-SB20", "229.00", {})],
        ),
        _p(
            "o-headlamp",
            "Rechargeable Headlamp",
            "Summitcraft",
            "Outdoor",
            "400-lumen USB-C rechargeable headlamp with a red night-vision mode.",
            [("SC-HL400", "35.00", {})],
        ),
        _p(
            "o-water-bottle",
            "Insulated Water Bottle 32 oz",
            "Summitcraft",
            "Outdoor",
            "Double-wall vacuum insulated stainless steel bottle that keeps drinks cold for "
            "24 hours.",
            [
                ("SC-WB-BLU", "32.00", {"color": "Blue"}),
                ("SC-WB-BLK", "32.00", {"color": "Black"}),
                ("SC-WB-GRN", "34.00", {"color": "Forest Green"}),
            ],
        ),
        # Apparel
        _p(
            "ap-rain-jacket",
            "Packable Rain Jacket",
            "Threadmark",
            "Apparel",
            "Waterproof breathable shell with taped seams and a hood; packs into its own pocket.",
            [
                ("TM-RJ-BLU-M", "99.00", {"color": "Blue", "size": "M"}),
                ("TM-RJ-YLW-M", "99.00", {"color": "Yellow", "size": "M"}),
                ("TM-RJ-BLU-XL", "109.00", {"color": "Blue", "size": "XL"}),
            ],
        ),
        _p(
            "ap-merino-tee",
            "Merino Wool T-Shirt",
            "Threadmark",
            "Apparel",
            "Odor-resistant lightweight merino tee for travel and hiking.",
            [
                ("TM-MT-BLK", "65.00", {"color": "Black"}),
                ("TM-MT-GRY", "65.00", {"color": "Heather Grey"}),
            ],
        ),
        _p(
            "ap-hiking-socks",
            "Hiking Socks 3-Pack",
            "Threadmark",
            "Apparel",
            "Cushioned merino wool blend crew socks.",
            [("TM-SOCK3", "24.00", {})],
        ),
        # Bath
        _p(
            "b-towels",
            "Turkish Cotton Bath Towels, Set of 2",
            "Lumen & Co.",
            "Bath",
            "Plush, absorbent towels woven from 100% Turkish cotton.",
            [
                ("LC-TW-WHT", "45.00", {"color": "White"}),
                ("LC-TW-NVY", "45.00", {"color": "Navy"}),
            ],
        ),
        _p(
            "b-diffuser",
            "Ultrasonic Aroma Diffuser",
            "Lumen & Co.",
            "Bath",
            "Essential oil diffuser with a cool mist, ambient light and automatic shut-off.",
            [("LC-DIF", "39.00", {})],
        ),
    ]


# --------------------------------------------------------------------------- fixtures
