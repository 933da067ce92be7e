# The W worker and helpers shared by the supervisor pairs (twin of twin_worker.py).
defmodule W do
  use GenServer
  def start_link(id), do: GenServer.start_link(__MODULE__, id)
  def init(id), do: (Process.flag(:trap_exit, true); T.out("start", id); {:ok, id})
  def handle_call(:id, _from, id), do: {:reply, id, id}
  def terminate(r, id), do: T.out("stop", {id, r})
end

defmodule H do
  def pids(sup), do: Map.new(Supervisor.which_children(sup), fn {id, pid, _, _} -> {id, pid} end)
  def changed(b, a), do: b |> Map.keys() |> Enum.filter(&(b[&1] != a[&1])) |> Enum.sort()
  def spec(id, opts \\ []), do: Supervisor.child_spec({W, id}, [id: id] ++ opts)
end
