Code.require_file("../T.exs", __DIR__)
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

T.main(fn ->
  {:ok, sup} = DynamicSupervisor.start_link(strategy: :one_for_one, max_children: 2)
  {:ok, a} = DynamicSupervisor.start_child(sup, {W, :a})
  {:ok, _b} = DynamicSupervisor.start_child(sup, {W, :b})
  T.out("max", DynamicSupervisor.start_child(sup, {W, :c}))
  T.out("ids", Enum.map(DynamicSupervisor.which_children(sup), &elem(&1, 0)))
  T.out("count", DynamicSupervisor.count_children(sup))
  T.out("terminate", DynamicSupervisor.terminate_child(sup, a))
  T.out("again", DynamicSupervisor.terminate_child(sup, a))
  Process.exit(hd(DynamicSupervisor.which_children(sup)) |> elem(1), :kill)
  T.settle()
  T.out("count", DynamicSupervisor.count_children(sup))
end)
T.done()
