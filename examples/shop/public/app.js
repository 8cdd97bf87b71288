// Lists the items of the JSON API and adds new ones.
async function load() {
  const response = await fetch('/api/items', { headers: { accept: 'application/json' } });
  const items = await response.json();
  const list = document.getElementById('items');
  list.replaceChildren(...items.map((item) => {
    const li = document.createElement('li');
    li.textContent = `${item.name}: ${(item.price_cents / 100).toFixed(2)}`;
    return li;
  }));
}

document.getElementById('add').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  await fetch('/api/items', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: form.get('name'), price_cents: Number(form.get('price_cents')) }),
  });
  event.target.reset();
  load();
});

load();
